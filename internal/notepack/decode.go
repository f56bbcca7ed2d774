package notepack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// MaxDepth bounds the nesting of arrays and maps that Unmarshal accepts.
const MaxDepth = 1000

// Errors returned by Unmarshal, wrapped with the offset where they occurred.
var (
	ErrTruncated = errors.New("notepack: unexpected end of data")
	ErrTrailing  = errors.New("notepack: trailing bytes after the value")
	ErrInvalid   = errors.New("notepack: invalid data")
	ErrTooDeep   = errors.New("notepack: nesting too deep")
)

// Map is a decoded map, in wire order.
type Map []KV

// KV is one entry of a Map.
type KV struct {
	Key   string
	Value any
}

// Get returns the value of key and whether it is present; with duplicate
// keys the last one wins, as in a JavaScript object.
func (m Map) Get(key string) (any, bool) {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i].Key == key {
			return m[i].Value, true
		}
	}
	return nil, false
}

// Ext is an extension value of a type notepack has no meaning for; a
// JavaScript peer sees it as the array [Type, Buffer].
type Ext struct {
	Type int8
	Data []byte
}

type undefined struct{}

// Undefined is JavaScript's undefined: notepack 2 wrote it as fixext1 of
// type 0. It encodes as nil, is null in a JSON array and is left out of a
// JSON object, as with JSON.stringify.
var Undefined = undefined{}

// Unmarshal decodes one value that must fill data. Strings are copied; bin
// values alias data.
func Unmarshal(data []byte) (any, error) {
	d := decoder{b: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.i != len(data) {
		return nil, fmt.Errorf("%w: %d bytes at offset %d", ErrTrailing, len(data)-d.i, d.i)
	}
	return v, nil
}

type decoder struct {
	b []byte
	i int
}

func (d *decoder) fail(err error) error { return fmt.Errorf("%w at offset %d", err, d.i) }

// take returns the next n bytes.
func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.i {
		return nil, d.fail(ErrTruncated)
	}
	s := d.b[d.i : d.i+n : d.i+n]
	d.i += n
	return s, nil
}

func (d *decoder) uint(n int) (uint64, error) {
	s, err := d.take(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(s[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(s)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(s)), nil
	}
	return binary.BigEndian.Uint64(s), nil
}

func (d *decoder) length(n int) (int, error) {
	u, err := d.uint(n)
	if err != nil {
		return 0, err
	}
	if u > uint64(len(d.b)-d.i) { // every element takes at least one byte
		return 0, d.fail(ErrTruncated)
	}
	return int(u), nil
}

func (d *decoder) value(depth int) (any, error) {
	if d.i >= len(d.b) {
		return nil, d.fail(ErrTruncated)
	}
	c := d.b[d.i]
	d.i++
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c <= 0x8f:
		return d.mapOf(int(c&0x0f), depth)
	case c <= 0x9f:
		return d.arrayOf(int(c&0x0f), depth)
	case c <= 0xbf:
		return d.str(int(c & 0x1f))
	case c >= 0xe0:
		return int64(int8(c)), nil
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.length(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		return d.take(n)
	case 0xc7, 0xc8, 0xc9:
		n, err := d.length(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(c, n)
	case 0xca:
		u, err := d.uint(4)
		return float64(math.Float32frombits(uint32(u))), err
	case 0xcb:
		u, err := d.uint(8)
		return math.Float64frombits(u), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := d.uint(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if u > math.MaxInt64 {
			return u, nil
		}
		return int64(u), nil
	case 0xd0:
		u, err := d.uint(1)
		return int64(int8(u)), err
	case 0xd1:
		u, err := d.uint(2)
		return int64(int16(u)), err
	case 0xd2:
		u, err := d.uint(4)
		return int64(int32(u)), err
	case 0xd3:
		u, err := d.uint(8)
		return int64(u), err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return d.ext(c, 1<<(c-0xd4))
	case 0xd9, 0xda, 0xdb:
		n, err := d.length(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case 0xdc, 0xdd:
		n, err := d.length(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.arrayOf(n, depth)
	case 0xde, 0xdf:
		n, err := d.length(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapOf(n, depth)
	}
	d.i--
	return nil, d.fail(fmt.Errorf("%w: byte 0x%02x", ErrInvalid, c))
}

func (d *decoder) str(n int) (any, error) {
	s, err := d.take(n)
	if err != nil {
		return nil, err
	}
	return string(s), nil
}

// ext decodes the type byte and n bytes of data of an extension value
// whose prefix byte was c, with notepack's meanings for type 0 and -1.
func (d *decoder) ext(c byte, n int) (any, error) {
	t, err := d.uint(1)
	if err != nil {
		return nil, err
	}
	typ := int8(t)
	data, err := d.take(n)
	if err != nil {
		return nil, err
	}
	switch {
	case typ == 0 && c == 0xd4:
		return Undefined, nil // notepack 2's undefined
	case typ == 0 && c == 0xd7:
		// notepack 2's date: milliseconds as a signed 64-bit integer.
		return time.UnixMilli(int64(binary.BigEndian.Uint64(data))).UTC(), nil
	case typ == 0 && c >= 0xc7 && c <= 0xc9:
		return data, nil // notepack 2's ArrayBuffer and typed arrays
	case typ == -1 && (c == 0xd6 || c == 0xd7 || c == 0xc7):
		return timestamp(data)
	}
	return Ext{Type: typ, Data: data}, nil
}

func timestamp(b []byte) (any, error) {
	switch len(b) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(b)), 0).UTC(), nil
	case 8:
		v := binary.BigEndian.Uint64(b)
		return time.Unix(int64(v&(1<<34-1)), int64(v>>34)).UTC(), nil
	case 12:
		ns := binary.BigEndian.Uint32(b)
		s := int64(binary.BigEndian.Uint64(b[4:]))
		return time.Unix(s, int64(ns)).UTC(), nil
	}
	return Ext{Type: -1, Data: b}, nil
}

func (d *decoder) arrayOf(n, depth int) (any, error) {
	if depth >= MaxDepth {
		return nil, d.fail(ErrTooDeep)
	}
	out := make([]any, n)
	for k := range out {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func (d *decoder) mapOf(n, depth int) (any, error) {
	if depth >= MaxDepth {
		return nil, d.fail(ErrTooDeep)
	}
	out := make(Map, 0, min(n, 64))
	for range n {
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		key, ok := keyString(k)
		if !ok {
			return nil, d.fail(fmt.Errorf("%w: map key of type %T", ErrInvalid, k))
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, KV{key, v})
	}
	return out, nil
}

// keyString converts a decoded map key as JavaScript does when it uses a
// value as a property name.
func keyString(k any) (string, bool) {
	switch x := k.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return string(appendNumber(nil, x)), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "null", true
	}
	return "", false
}
