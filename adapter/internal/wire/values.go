package wire

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sockio/sockio/internal/notepack"
)

// ErrMalformed marks a message that cannot be read.
var ErrMalformed = errors.New("malformed cluster message")

// Field returns the value of key in object v (nil when v is not an object
// or has no such key).
func Field(v any, key string) any {
	switch m := v.(type) {
	case notepack.Map:
		x, _ := m.Get(key)
		return x
	case map[string]any:
		return m[key]
	}
	return nil
}

// Has reports whether object v has key, with a value other than undefined.
func Has(v any, key string) bool {
	switch m := v.(type) {
	case notepack.Map:
		x, ok := m.Get(key)
		return ok && x != notepack.Undefined
	case map[string]any:
		x, ok := m[key]
		return ok && x != notepack.Undefined
	}
	return false
}

// Entries lists the keys and values of object v, in wire order when it has
// one (sorted otherwise, for a stable result).
func Entries(v any) []notepack.KV {
	switch m := v.(type) {
	case notepack.Map:
		return m
	case map[string]any:
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]notepack.KV, len(keys))
		for i, k := range keys {
			out[i] = notepack.KV{Key: k, Value: m[k]}
		}
		return out
	}
	return nil
}

// IsObject reports whether v is an object.
func IsObject(v any) bool {
	switch v.(type) {
	case notepack.Map, map[string]any:
		return true
	}
	return false
}

// String reads a string.
func String(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// Number reads a JavaScript number.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Int reads a whole number within int32, as counts and types are.
func Int(v any) (int, bool) {
	f, ok := Number(v)
	if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// Count reads a client count (0 when absent or negative).
func Count(v any) int {
	n, _ := Int(v)
	return max(n, 0)
}

// Room reads a room name; JavaScript peers may use numbers as rooms.
func Room(v any) (string, bool) {
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

// Rooms reads a list of rooms, skipping what is not one.
func Rooms(v any) []string {
	if s, ok := v.([]string); ok { // as built for the wire, not yet encoded
		return s
	}
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, el := range list {
		if r, ok := Room(el); ok {
			out = append(out, r)
		}
	}
	return out
}

// StringsOrEmpty is s, or an empty list where the wire wants [] for nil.
func StringsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// IsEventName reports whether v can name an event (a string; JavaScript
// peers may send a number).
func IsEventName(v any) bool {
	switch v.(type) {
	case string, int64, float64:
		return true
	}
	return false
}

// Plain converts a wire value to what encoding/json gives in an any
// (map[string]any, []any, float64), with []byte for binary parts.
func Plain(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case int:
		return float64(x)
	case notepack.Map:
		out := make(map[string]any, len(x))
		for _, kv := range x {
			if kv.Value != notepack.Undefined {
				out[kv.Key] = Plain(kv.Value)
			}
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			if el != notepack.Undefined {
				out[k] = Plain(el)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = Plain(el)
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
