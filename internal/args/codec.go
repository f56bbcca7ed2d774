package args

import (
	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/parser"
)

// EncodeWith turns a Socket.IO packet into Engine.IO message packets in
// codec's format (parser.Default when nil). The result is read-only and
// may be shared by every recipient of a broadcast.
func EncodeWith(codec parser.Codec, p *parser.Packet) ([]packet.Packet, error) {
	if codec == nil || codec == parser.Default {
		return Encode(p), nil // no intermediate []parser.Message
	}
	msgs, err := codec.Encode(p)
	if err != nil {
		return nil, err
	}
	out := make([]packet.Packet, len(msgs))
	for i, m := range msgs {
		out[i] = packet.Packet{Type: packet.Message, Data: m.Data, Binary: m.Binary}
	}
	return out, nil
}
