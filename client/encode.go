package client

import "github.com/sockio/sockio/internal/args"

// The packet builders are shared with the server (package sockio).
var (
	encode         = args.Encode
	newEventPacket = args.EventPacket
	newAckPacket   = args.AckPacket
)
