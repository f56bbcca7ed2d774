package sockio

import (
	"encoding/json"

	"github.com/sockio/sockio/internal/args"
)

// Args are the arguments of an event or an acknowledgement, kept as raw JSON
// (plus binary attachments) until a handler asks for them in a type: Len,
// Raw, Decode, Values, Attachments. Passing Args to Emit or an Ack sends them
// on: without binary parts byte for byte (key order and number text kept).
// Package client uses the same type.
type Args = args.Args

// NewArgs returns Args holding raw JSON values (binary parts as
// placeholders) and their attachments; cluster adapters use it for
// answers and events that come from other nodes.
func NewArgs(raw []json.RawMessage, attachments [][]byte) Args {
	return args.New(raw, attachments)
}

var newArgs = args.FromPacket
