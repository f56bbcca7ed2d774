// Package args holds what the server (package sockio) and the client
// (package client) share about events: their arguments (raw JSON plus
// binary attachments, decoded only when a handler asks for a type; both
// packages export the type as Args) and the encoding of EVENT and ACK
// packets.
package args

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/parser"
)

// Args are the arguments of an event or an acknowledgement, kept as raw JSON
// (plus binary attachments) until a handler asks for them in a type. Passing
// Args to Emit or an Ack sends them on: without binary parts byte for byte
// (key order and number text kept); with binary parts the values are
// rebuilt, numbers still as written.
type Args struct {
	raw  []json.RawMessage
	atts [][]byte
}

// New returns Args holding raw JSON values (binary parts as placeholders)
// and their attachments.
func New(raw []json.RawMessage, attachments [][]byte) Args {
	return Args{raw: raw, atts: attachments}
}

// FromPacket splits a packet's JSON array; skip drops leading elements.
func FromPacket(p *parser.Packet, skip int) (Args, error) {
	if len(p.Data) == 0 {
		return Args{atts: p.Attachments}, nil
	}
	raw, err := parser.SplitArray(p.Data)
	if err != nil {
		return Args{}, err
	}
	skip = min(skip, len(raw))
	return Args{raw: raw[skip:], atts: p.Attachments}, nil
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.raw) }

// Raw returns argument i as JSON; binary parts appear as placeholders.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a.raw) {
		return nil
	}
	return a.raw[i]
}

// Tail returns the arguments after the first n.
func (a Args) Tail(n int) Args {
	n = min(max(n, 0), len(a.raw))
	return Args{raw: a.raw[n:], atts: a.atts}
}

// Attachments returns the binary attachments of the packet, in order.
func (a Args) Attachments() [][]byte { return a.atts }

// Decode stores argument i in the value pointed to by v, as json.Unmarshal
// would, with binary parts as []byte. A missing argument leaves v untouched.
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.raw) {
		return nil
	}
	if len(a.atts) == 0 {
		if err := json.Unmarshal(a.raw[i], v); err != nil {
			return fmt.Errorf("failed to decode argument %d: %w", i, err)
		}
		return nil
	}
	val, err := parser.Reconstruct(a.raw[i], a.atts)
	if err != nil {
		return fmt.Errorf("failed to decode argument %d: %w", i, err)
	}
	val = plainNumbers(val)
	// Assign directly when the value already has the wanted type, so
	// binary parts inside any, map[string]any or []any stay []byte.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() && val != nil {
		if dst := rv.Elem(); reflect.TypeOf(val).AssignableTo(dst.Type()) {
			dst.Set(reflect.ValueOf(val))
			return nil
		}
	}
	// Through JSON: []byte becomes base64 and decodes back into []byte
	// fields; restoreBinary then puts []byte back where JSON left base64
	// text in an any.
	b, err := json.Marshal(val)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return fmt.Errorf("failed to decode argument %d: %w", i, err)
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		restoreBinary(rv.Elem(), val)
	}
	return nil
}

// Values decodes every argument into plain Go values: string, float64,
// bool, nil, []any, map[string]any and []byte for binary parts.
func (a Args) Values() ([]any, error) {
	out := make([]any, len(a.raw))
	for i := range a.raw {
		if err := a.Decode(i, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// String shows the arguments as JSON, for logs.
func (a Args) String() string {
	b := []byte{'['}
	for i, r := range a.raw {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return string(append(b, ']'))
}

// plainNumbers turns json.Number into float64, as json.Unmarshal into any does.
func plainNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return t.String()
		}
		return f
	case []any:
		for i := range t {
			t[i] = plainNumbers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = plainNumbers(t[k])
		}
	}
	return v
}

// AppendOutgoing appends values to out, spreading Args into their elements
// so that they are sent on as received.
func AppendOutgoing(out []any, values []any) ([]any, error) {
	for _, v := range values {
		a, ok := v.(Args)
		if !ok {
			out = append(out, v)
			continue
		}
		for i := range a.raw {
			if len(a.atts) == 0 {
				out = append(out, a.raw[i])
				continue
			}
			val, err := parser.Reconstruct(a.raw[i], a.atts)
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
	}
	return out, nil
}

// EventName decodes an event name; most names need no unescaping. The
// reference also accepts a number as a name: it is kept as its text.
func EventName(raw json.RawMessage) (string, error) {
	if len(raw) > 0 && raw[0] != '"' {
		return string(raw), nil
	}
	if n := len(raw); n >= 2 {
		inner := raw[1 : n-1]
		plain := true
		for _, c := range inner {
			if c == '\\' || c == '"' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain {
			return string(inner), nil
		}
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", fmt.Errorf("failed to decode event name: %w", err)
	}
	return name, nil
}

// ErrReservedEvent is returned when emitting an event name the protocol
// reserves (sockio.ErrReservedEvent and client.ErrReservedEvent are it).
var ErrReservedEvent = errors.New("sockio: reserved event name")

// EventPacket builds an EVENT (or BINARY_EVENT) packet.
func EventPacket(nsp, event string, values []any) (*parser.Packet, error) {
	if parser.IsReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	head := make([]any, 1, len(values)+1)
	head[0] = event
	return dataPacket(parser.Event, nsp, head, values)
}

// AckPacket builds an ACK (or BINARY_ACK) packet for ack id.
func AckPacket(nsp string, id uint64, values []any) (*parser.Packet, error) {
	p, err := dataPacket(parser.Ack, nsp, make([]any, 0, len(values)), values)
	if err != nil {
		return nil, err
	}
	p.ID, p.HasID = id, true
	return p, nil
}

func dataPacket(typ parser.Type, nsp string, head, values []any) (*parser.Packet, error) {
	all, err := AppendOutgoing(head, values)
	if err != nil {
		return nil, fmt.Errorf("failed to encode arguments: %w", err)
	}
	data, atts, err := parser.EncodeData(nil, all)
	if err != nil {
		return nil, fmt.Errorf("failed to encode arguments: %w", err)
	}
	if len(atts) > 0 {
		if typ == parser.Event {
			typ = parser.BinaryEvent
		} else {
			typ = parser.BinaryAck
		}
	}
	return &parser.Packet{Type: typ, Namespace: nsp, Data: data, Attachments: atts}, nil
}

// Encode turns a Socket.IO packet into Engine.IO message packets: the text
// part, then one binary message per attachment. The result is read-only
// and may be shared by every recipient of a broadcast.
func Encode(p *parser.Packet) []packet.Packet {
	text := parser.AppendText(make([]byte, 0, 8+len(p.Namespace)+len(p.Data)), p)
	out := make([]packet.Packet, 1+len(p.Attachments))
	out[0] = packet.Packet{Type: packet.Message, Data: text}
	for i, a := range p.Attachments {
		out[i+1] = packet.Packet{Type: packet.Message, Data: a, Binary: true}
	}
	return out
}
