package sockio

import "github.com/sockio/sockio/internal/args"

// ErrReservedEvent is returned when emitting an event name the protocol reserves.
var ErrReservedEvent = args.ErrReservedEvent

// The packet builders are shared with package client.
var (
	encode         = args.Encode
	newEventPacket = args.EventPacket
	newAckPacket   = args.AckPacket
)
