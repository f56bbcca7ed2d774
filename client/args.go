package client

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/sockio/sockio/parser"
)

// Args are the arguments of an event or an acknowledgement, kept as raw
// JSON (plus binary attachments) until a handler asks for them in a type.
// Passing Args to Emit or an Ack sends them on unchanged. It is the client
// twin of sockio.Args.
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
	// Assign directly when the value has the wanted type, so that binary
	// parts inside any, map[string]any or []any stay []byte.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() && val != nil {
		if dst := rv.Elem(); reflect.TypeOf(val).AssignableTo(dst.Type()) {
			dst.Set(reflect.ValueOf(val))
			return nil
		}
	}
	// Otherwise through JSON: []byte becomes base64, which decodes back
	// into []byte fields.
	b, err := json.Marshal(val)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return fmt.Errorf("failed to decode argument %d: %w", i, err)
	}
	return nil
}

// Values decodes every argument into plain Go values: string, float64,
// bool, nil, []any, map[string]any, and []byte for binary parts.
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

// newArgs splits a packet's JSON array; skip drops leading elements (the
// event name).
func newArgs(p *parser.Packet, skip int) (Args, error) {
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

// appendOutgoing appends args to out, spreading Args values into their
// elements so that they are sent on as received.
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
