package client

import "github.com/sockio/sockio/internal/args"

// Args are the arguments of an event or an acknowledgement, kept as raw
// JSON (plus binary attachments) until a handler asks for them in a type:
// Len, Raw, Decode, Values, Attachments. Passing Args to Emit or an Ack
// sends them on unchanged. It is the same type as sockio.Args.
type Args = args.Args

var newArgs = args.FromPacket
