package sockio

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/sockio/sockio/parser"
)

// Args are the arguments of an event or an acknowledgement, kept as raw JSON
// (plus binary attachments) until a handler asks for them in a type. Passing
// Args to Emit or an Ack sends them on unchanged: key order and numbers
// stay exactly as the client wrote them.
type Args struct {
	raw  []json.RawMessage
	atts [][]byte
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

// Attachments returns the binary attachments of the packet, in order.
func (a Args) Attachments() [][]byte { return a.atts }

// Decode stores argument i in the value pointed to by v, as json.Unmarshal
// would, with binary parts as []byte. A missing argument leaves v untouched.
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.raw) {
		return nil
	}
	raw := a.raw[i]
	if len(a.atts) == 0 {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("failed to decode argument %d: %w", i, err)
		}
		return nil
	}
	val, err := a.value(i)
	if err != nil {
		return err
	}
	// Assign directly when the value already has the wanted type, so
	// binary parts inside any, map[string]any or []any stay []byte.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() && val != nil {
		if dst := rv.Elem(); reflect.TypeOf(val).AssignableTo(dst.Type()) {
			dst.Set(reflect.ValueOf(val))
			return nil
		}
	}
	// Through JSON: []byte becomes base64 and decodes back into []byte fields.
	b, err := json.Marshal(val)
	if err != nil {
		return fmt.Errorf("failed to decode argument %d: %w", i, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("failed to decode argument %d: %w", i, err)
	}
	return nil
}

// Values decodes every argument into plain Go values: string, float64,
// bool, nil, []any, map[string]any and []byte for binary parts.
func (a Args) Values() ([]any, error) {
	out := make([]any, len(a.raw))
	for i := range a.raw {
		var v any
		if err := a.Decode(i, &v); err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (a Args) value(i int) (any, error) {
	v, err := parser.Reconstruct(a.raw[i], a.atts)
	if err != nil {
		return nil, fmt.Errorf("failed to decode argument %d: %w", i, err)
	}
	return plainNumbers(v), nil
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

// appendOutgoing appends args to out, spreading Args values into their
// elements so they are sent on as received.
func appendOutgoing(out []any, args []any) ([]any, error) {
	for _, v := range args {
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

// newArgs splits a packet's JSON array; skip drops the event name.
func newArgs(p *parser.Packet, skip int) (Args, error) {
	if len(p.Data) == 0 {
		return Args{atts: p.Attachments}, nil
	}
	raw, err := parser.SplitArray(p.Data)
	if err != nil {
		return Args{}, err
	}
	if skip > len(raw) {
		skip = len(raw)
	}
	return Args{raw: raw[skip:], atts: p.Attachments}, nil
}

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// decodeName decodes an event name; most names need no unescaping. The
// reference also accepts a number as a name: it is kept as its text.
func decodeName(raw json.RawMessage, name *string) error {
	if len(raw) > 0 && raw[0] != '"' {
		*name = string(raw)
		return nil
	}
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		inner := raw[1 : n-1]
		plain := true
		for _, c := range inner {
			if c == '\\' || c == '"' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain {
			*name = string(inner)
			return nil
		}
	}
	if err := json.Unmarshal(raw, name); err != nil {
		return fmt.Errorf("failed to decode event name: %w", err)
	}
	return nil
}

// NewArgs returns Args holding raw JSON values (binary parts as
// placeholders) and their attachments; cluster adapters use it for
// answers and events that come from other nodes.
func NewArgs(raw []json.RawMessage, attachments [][]byte) Args {
	return Args{raw: raw, atts: attachments}
}
