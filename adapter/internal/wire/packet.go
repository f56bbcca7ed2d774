package wire

import (
	"fmt"

	"github.com/sockio/sockio/internal/notepack"
	"github.com/sockio/sockio/parser"
)

// Packet writes the packet of a broadcast as the reference sends it: an
// EVENT (binary or not: the receiver's encoder decides) with its data as
// values, binary parts as []byte.
func Packet(p *parser.Packet, nsp string) (notepack.Map, error) {
	data, err := notepack.ParseJSON(p.Data, p.Attachments)
	if err != nil {
		return nil, fmt.Errorf("packet data: %w", err)
	}
	return notepack.Map{
		{Key: "type", Value: int64(parser.Event)},
		{Key: "data", Value: data},
		{Key: "nsp", Value: nsp},
	}, nil
}

// ReadPacket turns a broadcast packet from the wire into an EVENT packet
// of namespace nsp, encoded once for the local sockets.
func ReadPacket(v any, nsp string) (*parser.Packet, error) {
	if t, ok := Int(Field(v, "type")); !ok || t != int(parser.Event) && t != int(parser.BinaryEvent) {
		return nil, fmt.Errorf("%w: packet type %v", ErrMalformed, Field(v, "type"))
	}
	data, ok := Field(v, "data").([]any)
	if !ok || len(data) == 0 {
		return nil, fmt.Errorf("%w: packet data", ErrMalformed)
	}
	if _, ok := data[0].(string); !ok {
		if _, ok := Number(data[0]); !ok {
			return nil, fmt.Errorf("%w: event name", ErrMalformed)
		}
	}
	js, atts, err := notepack.AppendJSONValue(nil, data, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, Data: js, Attachments: atts}
	if len(atts) > 0 {
		p.Type = parser.BinaryEvent
	}
	return p, nil
}

// PacketNamespace is the namespace of a wire packet ("/" when absent, as
// the reference assumes).
func PacketNamespace(v any) string {
	if s, ok := String(Field(v, "nsp")); ok {
		return s
	}
	return "/"
}

// AppendArg adds a string as the last element of a packet's JSON array
// data (the recovery offset, where the official client reads it).
func AppendArg(data []byte, s string) []byte {
	if len(data) < 2 || data[0] != '[' || data[len(data)-1] != ']' {
		return data
	}
	out := make([]byte, 0, len(data)+len(s)+8)
	out = append(out, data[:len(data)-1]...)
	if len(data) > 2 {
		out = append(out, ',')
	}
	out = notepack.AppendJSONString(out, s)
	return append(out, ']')
}
