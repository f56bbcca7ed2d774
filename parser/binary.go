package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/sockio/sockio/internal/utf8text"
)

// A placeholder stands for the attachment numbered num:
//
//	{"_placeholder":true,"num":0}
//
// As in the reference, an object is a placeholder when its "_placeholder"
// member is the literal true (other members are ignored); its "num" must then
// be an integral number in [0, len(attachments)). Keys are compared after
// JSON unescaping and, for duplicates, the last one wins, as with JSON.parse.

// maxDepth bounds EncodeData nesting; it catches cycles ([]any holding
// itself) and matches the nesting limit of encoding/json's decoder.
const maxDepth = 10000

var errTooDeep = errors.New("socket.io: value nested too deeply (cycle?)")

// EncodeData appends to dst the JSON array of args and returns it, with the
// attachments it references. For an EVENT args[0] is the event name; for an
// ACK there is none.
//
// []byte values, at top level or anywhere inside []any and map[string]any,
// become placeholders, and the slices themselves (not copies) are returned
// as attachments, in order. json.RawMessage values are checked to be valid
// and copied verbatim, but for bytes that are not UTF-8, which become
// U+FFFD (as anywhere in the result). Everything else goes through encoding/json, with HTML
// escaping off, as JSON.stringify does; []byte inside other types (struct
// fields, typed slices) is therefore base64 text, not an attachment. Map keys
// are sorted, like encoding/json.
//
// On error dst is returned unchanged (its spare capacity may be written).
func EncodeData(dst []byte, args []any) (data []byte, attachments [][]byte, err error) {
	e := dataEncoder{buf: dst}
	e.buf = append(e.buf, '[')
	for i, a := range args {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(a, 1); err != nil {
			return dst, nil, err
		}
	}
	e.buf = append(e.buf, ']')
	if out := e.buf[len(dst):]; !utf8.Valid(out) {
		// Only a json.RawMessage or a MarshalJSON result can hold bytes
		// that are not UTF-8 (strings are coerced). They are repaired as a
		// polling peer would read them: a websocket peer closes on such a
		// text frame (1007), and a broadcast would take every listener
		// with it. The reference cannot send them at all.
		e.buf = append(e.buf[:len(dst)], utf8text.Repair(out)...)
	}
	return e.buf, e.atts, nil
}

type dataEncoder struct {
	buf  []byte
	atts [][]byte
	fb   *fallbackWriter // created on first use
}

// fallbackWriter lets a json.Encoder append to the output. It is separate
// from dataEncoder so that the latter stays on the stack.
type fallbackWriter struct {
	buf []byte
	enc *json.Encoder
}

func (w *fallbackWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (e *dataEncoder) value(v any, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case float64:
		// In this range encoding/json prints the shortest decimal without
		// exponent, which is what 'f', -1 gives; elsewhere defer to it.
		if a := math.Abs(x); a == 0 || a >= 1e-6 && a < 1e21 {
			e.buf = strconv.AppendFloat(e.buf, x, 'f', -1, 64)
			return nil
		}
		return e.fallback(x)
	case []byte:
		e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
		e.buf = strconv.AppendInt(e.buf, int64(len(e.atts)), 10)
		e.buf = append(e.buf, '}')
		e.atts = append(e.atts, x)
	case json.RawMessage:
		if x == nil {
			e.buf = append(e.buf, "null"...) // as encoding/json
			return nil
		}
		if !validJSON(x) {
			return fmt.Errorf("socket.io: invalid json.RawMessage in data")
		}
		e.buf = append(e.buf, x...)
	case []any:
		if x == nil {
			e.buf = append(e.buf, "null"...) // as encoding/json
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(el, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case map[string]any:
		if x == nil {
			e.buf = append(e.buf, "null"...) // as encoding/json
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, k)
			e.buf = append(e.buf, ':')
			if err := e.value(x[k], depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	default:
		return e.fallback(v)
	}
	return nil
}

func (e *dataEncoder) fallback(v any) error {
	if e.fb == nil {
		e.fb = &fallbackWriter{}
		e.fb.enc = json.NewEncoder(e.fb)
		e.fb.enc.SetEscapeHTML(false)
	}
	e.fb.buf = e.buf
	err := e.fb.enc.Encode(v)
	e.buf, e.fb.buf = e.fb.buf, nil
	if err != nil {
		return err
	}
	e.buf = e.buf[:len(e.buf)-1] // Encode ends with '\n'
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping like encoding/json
// (invalid UTF-8 becomes U+FFFD; U+2028 and U+2029 are escaped) but leaving
// <, > and & alone, as JSON.stringify does.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Reconstruct decodes one raw JSON value into Go values: objects become
// map[string]any, arrays []any, numbers json.Number (so they re-encode
// exactly), and every placeholder becomes attachments[num] (the slice
// itself). Invalid JSON wraps ErrInvalidPayload; a bad placeholder wraps
// ErrBadAttachments.
//
// Use it on a packet's Data, or on one element of it from SplitArray. With
// no attachments (a non-binary packet; a decoded binary one has at least
// one) placeholders are left as plain objects, as the reference parser only
// reconstructs binary packets.
func Reconstruct(raw json.RawMessage, attachments [][]byte) (any, error) {
	if !validJSON(raw) { // also rules out trailing data
		return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	if len(attachments) == 0 {
		return v, nil
	}
	return replacePlaceholders(v, attachments)
}

func replacePlaceholders(v any, atts [][]byte) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if ph, _ := x["_placeholder"].(bool); ph {
			num, _ := x["num"].(json.Number)
			k, ok := placeholderIndex(string(num), len(atts))
			if !ok {
				return nil, fmt.Errorf("%w: placeholder num %v with %d attachments",
					ErrBadAttachments, x["num"], len(atts))
			}
			return atts[k], nil
		}
		for key, el := range x {
			r, err := replacePlaceholders(el, atts)
			if err != nil {
				return nil, err
			}
			x[key] = r
		}
	case []any:
		for i, el := range x {
			r, err := replacePlaceholders(el, atts)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}

// placeholderIndex parses a placeholder's num literal. Like the reference it
// accepts any number equal to an index (so "0.0", "-0" and "1e0" too), but
// unlike it rejects non-integers instead of yielding undefined.
func placeholderIndex(num string, n int) (int, bool) {
	if num == "" || num[0] != '-' && !isDigit(num[0]) {
		return 0, false
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f >= float64(n) || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

// checkPlaceholders validates every placeholder in data (valid JSON) against
// n attachments without building a tree, so the decoder can reject a bad
// binary packet up front, as the reference does when reconstructing it.
func checkPlaceholders(data []byte, n int) error {
	_, err := walkPlaceholders(data, skipSpace(data, 0), n)
	return err
}

// walkPlaceholders checks the value at b[i] and returns the index past it.
// It always scans to the end of the value, even after an error, because an
// enclosing object may turn out to be a placeholder, whose contents the
// reference never looks at.
func walkPlaceholders(b []byte, i, n int) (int, error) {
	switch at(b, i) {
	case '[':
		var first error
		i = skipSpace(b, i+1)
		for i < len(b) && b[i] != ']' {
			end, err := walkPlaceholders(b, i, n)
			if first == nil {
				first = err
			}
			i = skipSpace(b, end)
			if at(b, i) == ',' {
				i = skipSpace(b, i+1)
			} else if end == i && at(b, i) != ']' {
				return len(b), first // no progress: not valid JSON
			}
		}
		return min(i+1, len(b)), first
	case '{':
		var first error
		isPH, num := false, []byte(nil)
		i = skipSpace(b, i+1)
		for i < len(b) && b[i] == '"' {
			kend := skipString(b, i)
			key := b[i:kend]
			i = skipSpace(b, kend)
			i = skipSpace(b, i+1) // past ':'
			end, err := walkPlaceholders(b, i, n)
			if first == nil {
				first = err
			}
			switch keyKind(key) {
			case keyPlaceholder:
				isPH = string(b[i:end]) == "true"
			case keyNum:
				num = b[i:end]
			}
			i = skipSpace(b, end)
			if at(b, i) == ',' {
				i = skipSpace(b, i+1)
			}
		}
		end := min(i+1, len(b))
		if isPH {
			if _, ok := placeholderIndex(string(num), n); !ok {
				return end, fmt.Errorf("%w: placeholder num %s with %d attachments",
					ErrBadAttachments, num, n)
			}
			return end, nil
		}
		return end, first
	case '"':
		return skipString(b, i), nil
	}
	end := skipLiteral(b, i)
	if end == i {
		end++ // always progress, even on invalid input
	}
	return end, nil
}

const (
	keyOther = iota
	keyPlaceholder
	keyNum
)

// keyKind classifies the quoted object key q, unescaping it only if needed.
func keyKind(q []byte) int {
	if len(q) >= 2 && bytes.IndexByte(q, '\\') < 0 {
		switch string(q[1 : len(q)-1]) { // no copy: only compared
		case "_placeholder":
			return keyPlaceholder
		case "num":
			return keyNum
		}
		return keyOther
	}
	var s string
	_ = json.Unmarshal(q, &s)
	switch s {
	case "_placeholder":
		return keyPlaceholder
	case "num":
		return keyNum
	}
	return keyOther
}
