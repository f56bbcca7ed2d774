package notepack

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

var errTooDeepEncode = errors.New("notepack: value nested too deeply (cycle?)")

// Marshal encodes v; see the package documentation for the mapping.
func Marshal(v any) ([]byte, error) { return Append(nil, v) }

// Append appends the encoding of v to dst. On error dst is returned as it
// was (its spare capacity may have been written).
func Append(dst []byte, v any) ([]byte, error) {
	out, err := appendValue(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return b, errTooDeepEncode
	}
	switch x := v.(type) {
	case nil, undefined:
		return AppendNil(b), nil
	case bool:
		return AppendBool(b, x), nil
	case string:
		return AppendString(b, x), nil
	case []byte:
		if x == nil {
			return AppendNil(b), nil
		}
		return AppendBytes(b, x), nil
	case int:
		return AppendInt(b, int64(x)), nil
	case int8:
		return AppendInt(b, int64(x)), nil
	case int16:
		return AppendInt(b, int64(x)), nil
	case int32:
		return AppendInt(b, int64(x)), nil
	case int64:
		return AppendInt(b, x), nil
	case uint:
		return AppendUint(b, uint64(x)), nil
	case uint8:
		return AppendUint(b, uint64(x)), nil
	case uint16:
		return AppendUint(b, uint64(x)), nil
	case uint32:
		return AppendUint(b, uint64(x)), nil
	case uint64:
		return AppendUint(b, x), nil
	case float32:
		return AppendFloat(b, float64(x)), nil
	case float64:
		return AppendFloat(b, x), nil
	case json.Number:
		f, err := parseNumber(string(x))
		if err != nil {
			return b, err
		}
		return AppendFloat(b, f), nil
	case json.RawMessage:
		if x == nil {
			return AppendNil(b), nil
		}
		return AppendJSON(b, x, nil)
	case time.Time:
		return AppendTime(b, x), nil
	case Ext:
		return AppendExt(b, x.Type, x.Data), nil
	case []any:
		if x == nil {
			return AppendNil(b), nil
		}
		b = AppendArrayHeader(b, len(x))
		for _, el := range x {
			var err error
			if b, err = appendValue(b, el, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case []string:
		if x == nil {
			return AppendNil(b), nil
		}
		b = AppendArrayHeader(b, len(x))
		for _, s := range x {
			b = AppendString(b, s)
		}
		return b, nil
	case Map:
		n := 0
		for _, kv := range x {
			if kv.Value != Undefined {
				n++
			}
		}
		b = AppendMapHeader(b, n)
		for _, kv := range x {
			if kv.Value == Undefined {
				continue
			}
			b = AppendString(b, kv.Key)
			var err error
			if b, err = appendValue(b, kv.Value, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case map[string]any:
		if x == nil {
			return AppendNil(b), nil
		}
		keys := make([]string, 0, len(x))
		for k, el := range x {
			if el != Undefined {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		b = AppendMapHeader(b, len(keys))
		for _, k := range keys {
			b = AppendString(b, k)
			var err error
			if b, err = appendValue(b, x[k], depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return AppendNil(b), nil
	}
	// Anything else goes through its JSON form, as notepack uses toJSON.
	j, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("notepack: %w", err)
	}
	return AppendJSON(b, j, nil)
}

// parseNumber reads a JSON number as JavaScript does: a literal too large
// for a float64 is an infinity.
func parseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("notepack: bad number %q", s)
	}
	return f, nil
}

// AppendNil appends nil.
func AppendNil(b []byte) []byte { return append(b, 0xc0) }

// AppendBool appends a boolean.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// AppendInt appends an integer in the smallest form notepack uses.
func AppendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return AppendUint(b, uint64(v))
	}
	switch {
	case v >= -32:
		return append(b, byte(int8(v)))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(int8(v)))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

// AppendUint appends a non-negative integer in the smallest form.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

// AppendFloat appends a JavaScript number as notepack does: an integer
// when v is integral (and fits 64 bits), a float64 otherwise.
func AppendFloat(b []byte, v float64) []byte {
	if v == math.Trunc(v) && !math.IsInf(v, 0) {
		switch {
		case v >= 0 && v < 1<<64:
			return AppendUint(b, uint64(v))
		case v < 0 && v >= -1<<63:
			return AppendInt(b, int64(v))
		}
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(v))
}

// AppendString appends a string.
func AppendString(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// AppendBytes appends binary data (a Node.js Buffer on the other side).
func AppendBytes(b []byte, v []byte) []byte {
	n := len(v)
	switch {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, v...)
}

// AppendArrayHeader appends the header of an array of n elements, which
// the caller appends next.
func AppendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

// AppendMapHeader appends the header of a map of n entries (key, then
// value), which the caller appends next.
func AppendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

// AppendTime appends t as a MessagePack timestamp (a JavaScript Date on
// the other side), in the smallest of the three forms.
func AppendTime(b []byte, t time.Time) []byte {
	s, ns := t.Unix(), int64(t.Nanosecond())
	switch {
	case s >= 0 && s < 1<<34:
		if ns == 0 && s <= math.MaxUint32 {
			return binary.BigEndian.AppendUint32(append(b, 0xd6, 0xff), uint32(s))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xd7, 0xff), uint64(ns)<<34|uint64(s))
	}
	b = binary.BigEndian.AppendUint32(append(b, 0xc7, 12, 0xff), uint32(ns))
	return binary.BigEndian.AppendUint64(b, uint64(s))
}

// AppendExt appends an extension value.
func AppendExt(b []byte, typ int8, data []byte) []byte {
	n := len(data)
	switch n {
	case 1:
		b = append(b, 0xd4, byte(typ))
	case 2:
		b = append(b, 0xd5, byte(typ))
	case 4:
		b = append(b, 0xd6, byte(typ))
	case 8:
		b = append(b, 0xd7, byte(typ))
	case 16:
		b = append(b, 0xd8, byte(typ))
	default:
		switch {
		case n <= math.MaxUint8:
			b = append(b, 0xc7, byte(n), byte(typ))
		case n <= math.MaxUint16:
			b = append(binary.BigEndian.AppendUint16(append(b, 0xc8), uint16(n)), byte(typ))
		default:
			b = append(binary.BigEndian.AppendUint32(append(b, 0xc9), uint32(n)), byte(typ))
		}
	}
	return append(b, data...)
}
