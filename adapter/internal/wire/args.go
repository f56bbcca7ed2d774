package wire

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
)

// Value converts a Go value given to ServerSideEmit or an acknowledgement
// into wire values (json.RawMessage and structs through their JSON form;
// []byte stays binary).
func Value(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, []byte, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, float32, float64, time.Time:
		return x, nil
	case json.Number:
		return notepack.ParseJSON([]byte(x), nil)
	case json.RawMessage:
		if x == nil {
			return nil, nil
		}
		return notepack.ParseJSON(x, nil)
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			c, err := Value(el)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			c, err := Value(el)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case notepack.Map:
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("wire value: %w", err)
	}
	return notepack.ParseJSON(b, nil)
}

// Values converts arguments, spreading sockio.Args into their elements
// (binary parts included) as Emit does.
func Values(args []any) ([]any, error) {
	out := make([]any, 0, len(args))
	for _, a := range args {
		if sa, ok := a.(sockio.Args); ok {
			for i := range sa.Len() {
				v, err := notepack.ParseJSON(sa.Raw(i), sa.Attachments())
				if err != nil {
					return nil, fmt.Errorf("wire value: %w", err)
				}
				out = append(out, v)
			}
			continue
		}
		v, err := Value(a)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// FirstValue is the one value an acknowledgement carries between nodes
// (the reference passes only the first argument on); Undefined if none.
func FirstValue(args []any) (any, error) {
	vals, err := Values(args)
	if err != nil || len(vals) == 0 {
		return notepack.Undefined, err
	}
	return vals[0], nil
}

// FirstArg is the wire value of the first argument of a client's
// acknowledgement.
func FirstArg(res sockio.Args) any {
	if res.Len() == 0 {
		return notepack.Undefined
	}
	v, err := notepack.ParseJSON(res.Raw(0), res.Attachments())
	if err != nil {
		return nil
	}
	return v
}

// Args turns wire values into sockio.Args, binary parts as attachments.
func Args(vals []any) (sockio.Args, error) {
	raw := make([]json.RawMessage, len(vals))
	var atts [][]byte
	for i, v := range vals {
		js, a, err := notepack.AppendJSONValue(nil, v, atts)
		if err != nil {
			return sockio.Args{}, fmt.Errorf("wire value: %w", err)
		}
		raw[i], atts = js, a
	}
	return sockio.NewArgs(raw, atts), nil
}

// AnswerArgs is the answer a response carries, as Args of one value, or
// of none when the answer was undefined or absent.
func AnswerArgs(v any, present bool) sockio.Args {
	if !present || v == notepack.Undefined {
		return sockio.Args{}
	}
	args, err := Args([]any{v})
	if err != nil {
		return sockio.Args{}
	}
	return args
}

// EventName is the name of a server-side event from the wire (a number
// from a JavaScript peer is printed as JavaScript would).
func EventName(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	js, _, _ := notepack.AppendJSONValue(nil, v, nil)
	return string(js)
}
