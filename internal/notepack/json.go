package notepack

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrBadJSON is wrapped by AppendJSON for input that is not valid JSON or
// whose placeholders do not match the attachments.
var ErrBadJSON = errors.New("notepack: bad JSON")

// AppendJSON appends the MessagePack form of the JSON value data, as a
// Node.js peer would encode the value after JSON.parse: objects keep their
// key order, numbers follow AppendFloat, and each placeholder object
// ({"_placeholder":true,"num":N}) becomes attachments[N] as bin. With no
// attachments, placeholders stay plain objects (as in a non-binary
// Socket.IO packet).
func AppendJSON(dst []byte, data []byte, attachments [][]byte) ([]byte, error) {
	p := jsonParser{b: data, atts: attachments}
	v, err := p.value(0)
	if err != nil {
		return dst, err
	}
	if p.i = p.space(p.i); p.i != len(data) {
		return dst, fmt.Errorf("%w: trailing data at offset %d", ErrBadJSON, p.i)
	}
	return Append(dst, v)
}

// ParseJSON decodes the JSON value data into the values Unmarshal gives
// (numbers as int64 when integral and within ±2^53, float64 otherwise;
// objects as Map), turning placeholders into attachments as AppendJSON
// does.
func ParseJSON(data []byte, attachments [][]byte) (any, error) {
	p := jsonParser{b: data, atts: attachments, numbers: true}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.i = p.space(p.i); p.i != len(data) {
		return nil, fmt.Errorf("%w: trailing data at offset %d", ErrBadJSON, p.i)
	}
	return v, nil
}

type jsonParser struct {
	b       []byte
	i       int
	atts    [][]byte
	numbers bool // convert numbers (ParseJSON) instead of keeping json.Number
}

func (p *jsonParser) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrBadJSON, what, p.i)
}

func (p *jsonParser) space(i int) int {
	for i < len(p.b) {
		switch p.b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, p.fail("nesting too deep")
	}
	p.i = p.space(p.i)
	if p.i >= len(p.b) {
		return nil, p.fail("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		p.i++
		out := []any{}
		if p.i = p.space(p.i); p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return out, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			p.i = p.space(p.i)
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.b) && p.b[p.i] == ']' {
				p.i++
				return out, nil
			}
			return nil, p.fail("expected , or ]")
		}
	case c == '"':
		return p.str()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, p.fail("unexpected character")
}

func (p *jsonParser) literal(word string, v any) (any, error) {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return nil, p.fail("bad literal")
	}
	p.i += len(word)
	return v, nil
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	i := p.i
	if p.b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(p.b) && p.b[i] >= '0' && p.b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(p.b) && p.b[i] == '0':
		i++
	case digits() == 0:
		p.i = i
		return nil, p.fail("bad number")
	}
	if i < len(p.b) && p.b[i] == '.' {
		i++
		if digits() == 0 {
			p.i = i
			return nil, p.fail("bad number")
		}
	}
	if i < len(p.b) && (p.b[i] == 'e' || p.b[i] == 'E') {
		i++
		if i < len(p.b) && (p.b[i] == '+' || p.b[i] == '-') {
			i++
		}
		if digits() == 0 {
			p.i = i
			return nil, p.fail("bad number")
		}
	}
	p.i = i
	text := string(p.b[start:i])
	if !p.numbers {
		return json.Number(text), nil
	}
	f, err := parseNumber(text)
	if err != nil {
		return nil, err
	}
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return int64(f), nil
	}
	return f, nil
}

func (p *jsonParser) str() (string, error) {
	start := p.i
	i := p.i + 1
	plain := true
	for ; i < len(p.b); i++ {
		c := p.b[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			i++
			continue
		}
		if c < 0x20 {
			p.i = i
			return "", p.fail("control character in string")
		}
		if c >= utf8.RuneSelf {
			plain = false
		}
	}
	if i >= len(p.b) {
		p.i = i
		return "", p.fail("unterminated string")
	}
	p.i = i + 1
	if plain {
		return string(p.b[start+1 : i]), nil
	}
	var s string
	if err := json.Unmarshal(p.b[start:i+1], &s); err != nil {
		p.i = start
		return "", p.fail("bad string")
	}
	return s, nil
}

func (p *jsonParser) object(depth int) (any, error) {
	p.i++
	out := Map{}
	if p.i = p.space(p.i); p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return p.placeholder(out)
	}
	for {
		if p.i = p.space(p.i); p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.fail("expected object key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if p.i = p.space(p.i); p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.fail("expected :")
		}
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, KV{key, v})
		p.i = p.space(p.i)
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return p.placeholder(out)
		}
		return nil, p.fail("expected , or }")
	}
}

// placeholder returns the attachment m stands for, or m itself.
func (p *jsonParser) placeholder(m Map) (any, error) {
	if len(p.atts) == 0 {
		return m, nil
	}
	if ph, _ := m.Get("_placeholder"); ph != true {
		return m, nil
	}
	num, _ := m.Get("num")
	var f float64
	switch n := num.(type) {
	case json.Number:
		f, _ = parseNumber(string(n))
	case int64:
		f = float64(n)
	case float64:
		f = n
	default:
		return nil, fmt.Errorf("%w: placeholder without a numeric num", ErrBadJSON)
	}
	if f < 0 || f >= float64(len(p.atts)) || f != math.Trunc(f) {
		return nil, fmt.Errorf("%w: placeholder num %v with %d attachments", ErrBadJSON, f, len(p.atts))
	}
	return p.atts[int(f)], nil
}

// AppendJSONValue appends v, a value as Unmarshal returns them (or plain
// Go strings, numbers, bools, []any and map[string]any), as JSON the way
// JSON.stringify writes it, and returns the attachments it refers to:
// each []byte becomes a placeholder numbered from len(atts) on and is
// appended to atts. Undefined is null in an array and left out of an
// object; Ext is the array [type, bin], as notepack gives it to
// JavaScript; time.Time is its toISOString form.
func AppendJSONValue(dst []byte, v any, atts [][]byte) ([]byte, [][]byte, error) {
	w := jsonWriter{atts: atts}
	b, err := w.value(dst, v, 0)
	return b, w.atts, err
}

// AppendStringify appends v as Node.js's JSON.stringify writes it, for
// the JSON messages of the protocol: as AppendJSONValue, except that
// []byte is a Buffer's JSON form, {"type":"Buffer","data":[1,2,3]}.
func AppendStringify(dst []byte, v any) ([]byte, error) {
	w := jsonWriter{buffers: true}
	return w.value(dst, v, 0)
}

// HasBinary reports whether v holds []byte (or Ext) anywhere in its
// slices and maps, as the reference's hasBinary.
func HasBinary(v any) bool {
	switch x := v.(type) {
	case []byte, Ext:
		return true
	case []any:
		for _, el := range x {
			if HasBinary(el) {
				return true
			}
		}
	case Map:
		for _, kv := range x {
			if HasBinary(kv.Value) {
				return true
			}
		}
	case map[string]any:
		for _, el := range x {
			if HasBinary(el) {
				return true
			}
		}
	}
	return false
}

type jsonWriter struct {
	atts    [][]byte
	buffers bool // []byte as a Buffer's JSON form instead of placeholders
}

func (w *jsonWriter) value(b []byte, v any, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return b, errTooDeepEncode
	}
	switch x := v.(type) {
	case nil, undefined:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return AppendJSONString(b, x), nil
	case int64:
		if x > 1<<53 || x < -1<<53 {
			return appendNumber(b, float64(x)), nil
		}
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return w.value(b, int64(x), depth)
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64:
		if x > 1<<53 {
			return appendNumber(b, float64(x)), nil
		}
		return strconv.AppendUint(b, x, 10), nil
	case uint:
		return w.value(b, uint64(x), depth)
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case float32:
		return appendNumber(b, float64(x)), nil
	case float64:
		return appendNumber(b, x), nil
	case json.Number:
		f, err := parseNumber(string(x))
		if err != nil {
			return b, err
		}
		return appendNumber(b, f), nil
	case []byte:
		if w.buffers {
			b = append(b, `{"type":"Buffer","data":[`...)
			for i, c := range x {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendUint(b, uint64(c), 10)
			}
			return append(b, "]}"...), nil
		}
		b = append(b, `{"_placeholder":true,"num":`...)
		b = strconv.AppendInt(b, int64(len(w.atts)), 10)
		w.atts = append(w.atts, x)
		return append(b, '}'), nil
	case time.Time:
		return AppendJSONString(b, x.UTC().Format("2006-01-02T15:04:05.000Z")), nil
	case Ext:
		return w.value(b, []any{int64(x.Type), x.Data}, depth)
	case json.RawMessage:
		if x == nil {
			return append(b, "null"...), nil
		}
		pv, err := ParseJSON(x, nil)
		if err != nil {
			return b, err
		}
		return w.value(b, pv, depth)
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, s)
		}
		return append(b, ']'), nil
	case []any:
		b = append(b, '[')
		for i, el := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = w.value(b, el, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case Map:
		b = append(b, '{')
		first := true
		for _, kv := range x {
			if kv.Value == Undefined {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(AppendJSONString(b, kv.Key), ':')
			var err error
			if b, err = w.value(b, kv.Value, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case map[string]any:
		m := make(Map, 0, len(x))
		for k, el := range x {
			m = append(m, KV{k, el})
		}
		sortMap(m)
		return w.value(b, m, depth)
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return append(b, "null"...), nil
	}
	// Anything else through its encoding/json form.
	j, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("notepack: %w", err)
	}
	pv, err := ParseJSON(j, nil)
	if err != nil {
		return b, err
	}
	return w.value(b, pv, depth)
}

func sortMap(m Map) {
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && m[j].Key < m[j-1].Key; j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
}

// appendNumber writes f as JavaScript's JSON.stringify does: shortest
// round-trip digits, an exponent below 1e-6 and from 1e21 on, and null for
// NaN and the infinities.
func appendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		return append(b, '0') // -0 too
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'e', -1, 64)
	// Go writes e-07 and e+21; JavaScript writes e-7 and e+21.
	n := len(b)
	if n-start >= 4 && b[n-4] == 'e' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as JSON.stringify writes a string: ", \ and
// control characters escaped, everything else as is. Invalid UTF-8 bytes
// become U+FFFD, as Node.js decodes them.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
