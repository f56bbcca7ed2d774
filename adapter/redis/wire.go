package redis

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
	"github.com/sockio/sockio/parser"
)

// Values on the wire are decoded into notepack's values (notepack.Map for
// objects, int64 or float64 for numbers, []byte for binary), whether the
// message came as MessagePack or as JSON: one set of accessors reads both.

var errMalformed = errors.New("redis adapter: malformed message")

// decodeMessage decodes a message: JSON when it starts with '{', as the
// reference decides, MessagePack otherwise.
func decodeMessage(b []byte) (any, error) {
	if len(b) > 0 && b[0] == '{' {
		return notepack.ParseJSON(b, nil)
	}
	return notepack.Unmarshal(b)
}

func field(v any, key string) any {
	m, _ := v.(notepack.Map)
	x, _ := m.Get(key)
	return x
}

func hasField(v any, key string) bool {
	m, _ := v.(notepack.Map)
	x, ok := m.Get(key)
	return ok && x != notepack.Undefined
}

func asString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// asNumber reads a JavaScript number.
func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func asInt(v any) (int, bool) {
	f, ok := asNumber(v)
	if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// asRoom reads a room name; JavaScript peers may use numbers as rooms.
func asRoom(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		js, _, _ := notepack.AppendJSONValue(nil, x, nil)
		return string(js), true
	}
	return "", false
}

func asRooms(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, el := range list {
		if r, ok := asRoom(el); ok {
			out = append(out, r)
		}
	}
	return out
}

// wireOptions converts the selection and flags of a broadcast for the
// wire, as the reference's encodeOptions; flags is left out when withFlags
// is false (requests other than broadcasts).
func wireOptions(opts *sockio.BroadcastOptions, withFlags bool) notepack.Map {
	m := notepack.Map{
		{Key: "rooms", Value: stringsOrEmpty(opts.Rooms)},
		{Key: "except", Value: stringsOrEmpty(opts.Except)},
	}
	if withFlags {
		m = append(m, notepack.KV{Key: "flags", Value: wireFlags(&opts.Flags)})
	}
	return m
}

func stringsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func wireFlags(f *sockio.BroadcastFlags) notepack.Map {
	m := notepack.Map{}
	if f.Volatile {
		m = append(m, notepack.KV{Key: "volatile", Value: true})
	}
	if f.NoCompress {
		m = append(m, notepack.KV{Key: "compress", Value: false})
	}
	if f.Local {
		m = append(m, notepack.KV{Key: "local", Value: true})
	}
	if f.Timeout > 0 {
		m = append(m, notepack.KV{Key: "timeout", Value: f.Timeout.Milliseconds()})
	}
	return m
}

// readOptions reads the options of a broadcast or a request; a message
// without them is malformed (the reference would fail on it too).
func readOptions(v any) (*sockio.BroadcastOptions, error) {
	if _, ok := v.(notepack.Map); !ok {
		return nil, fmt.Errorf("%w: no options", errMalformed)
	}
	opts := &sockio.BroadcastOptions{Rooms: asRooms(field(v, "rooms")), Except: asRooms(field(v, "except"))}
	flags := field(v, "flags")
	opts.Flags.Volatile = field(flags, "volatile") == true
	opts.Flags.NoCompress = field(flags, "compress") == false
	if ms, ok := asNumber(field(flags, "timeout")); ok && ms > 0 && ms < math.MaxInt32 {
		opts.Flags.Timeout = time.Duration(ms * float64(time.Millisecond))
	}
	return opts, nil
}

// wirePacket is the packet of a broadcast as the reference sends it: an
// EVENT (binary or not: the receiver's encoder decides) with its data as
// values.
func wirePacket(p *parser.Packet, nsp string) (notepack.Map, error) {
	data, err := notepack.ParseJSON(p.Data, p.Attachments)
	if err != nil {
		return nil, fmt.Errorf("redis adapter: packet data: %w", err)
	}
	return notepack.Map{
		{Key: "type", Value: int64(parser.Event)},
		{Key: "data", Value: data},
		{Key: "nsp", Value: nsp},
	}, nil
}

// readPacket turns a broadcast packet from the wire into an EVENT packet
// of namespace nsp, encoded once for the local sockets.
func readPacket(v any, nsp string) (*parser.Packet, error) {
	if t, ok := asInt(field(v, "type")); !ok || t != int(parser.Event) && t != int(parser.BinaryEvent) {
		return nil, fmt.Errorf("%w: packet type %v", errMalformed, field(v, "type"))
	}
	data, ok := field(v, "data").([]any)
	if !ok || len(data) == 0 {
		return nil, fmt.Errorf("%w: packet data", errMalformed)
	}
	if _, ok := data[0].(string); !ok {
		if _, ok := asNumber(data[0]); !ok {
			return nil, fmt.Errorf("%w: event name", errMalformed)
		}
	}
	js, atts, err := notepack.AppendJSONValue(nil, data, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, Data: js, Attachments: atts}
	if len(atts) > 0 {
		p.Type = parser.BinaryEvent
	}
	return p, nil
}

// packetNamespace is the namespace of a wire packet ("/" when absent, as
// the reference assumes).
func packetNamespace(v any) string {
	if s, ok := asString(field(v, "nsp")); ok {
		return s
	}
	return "/"
}

// toValue converts a Go value given to ServerSideEmit or an
// acknowledgement into wire values (json.RawMessage and structs through
// their JSON form; []byte stays binary).
func toValue(v any) (any, error) {
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
			c, err := toValue(el)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			c, err := toValue(el)
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
		return nil, fmt.Errorf("redis adapter: %w", err)
	}
	return notepack.ParseJSON(b, nil)
}

// toValues converts arguments, spreading sockio.Args into their elements
// (binary parts included) as Emit does.
func toValues(args []any) ([]any, error) {
	out := make([]any, 0, len(args))
	for _, a := range args {
		if sa, ok := a.(sockio.Args); ok {
			for i := range sa.Len() {
				v, err := notepack.ParseJSON(sa.Raw(i), sa.Attachments())
				if err != nil {
					return nil, fmt.Errorf("redis adapter: %w", err)
				}
				out = append(out, v)
			}
			continue
		}
		v, err := toValue(a)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// firstValue is the one value an acknowledgement carries between nodes
// (the reference passes only the first argument on); Undefined if none.
func firstValue(args []any) (any, error) {
	vals, err := toValues(args)
	if err != nil || len(vals) == 0 {
		return notepack.Undefined, err
	}
	return vals[0], nil
}

// encodeJSON writes a wire value as JSON.stringify would: binary as a
// Node.js Buffer's JSON form, {"type":"Buffer","data":[...]}.
func encodeJSON(v any) ([]byte, error) { return notepack.AppendStringify(nil, v) }

// argsOf turns wire values into sockio.Args, binary parts as attachments.
func argsOf(vals []any) (sockio.Args, error) {
	raw := make([]json.RawMessage, len(vals))
	var atts [][]byte
	for i, v := range vals {
		js, a, err := notepack.AppendJSONValue(nil, v, atts)
		if err != nil {
			return sockio.Args{}, fmt.Errorf("redis adapter: %w", err)
		}
		raw[i], atts = js, a
	}
	return sockio.NewArgs(raw, atts), nil
}

// plain converts a wire value to what encoding/json gives in an any
// (map[string]any, []any, float64), with []byte for binary parts.
func plain(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case notepack.Map:
		out := make(map[string]any, len(x))
		for _, kv := range x {
			if kv.Value != notepack.Undefined {
				out[kv.Key] = plain(kv.Value)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = plain(el)
		}
		return out
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case notepack.Ext:
		return []any{float64(x.Type), x.Data}
	}
	if v == notepack.Undefined {
		return nil
	}
	return v
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
