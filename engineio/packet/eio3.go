package packet

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/sockio/sockio/internal/utf8text"
)

// Engine.IO protocol 3 (EIO=3), the protocol of socket.io-client 2.x. Its
// packets are those of protocol 4; what differs is how they travel:
//
//   - text form: "<digit><data>" as in protocol 4, but a binary message in
//     text is "b4" + base64 (the type digit follows the 'b');
//   - websocket binary frame: the type as one byte (4), then the data;
//   - polling text payload: each packet as "<length>:<text form>", the
//     length counted in UTF-16 code units (JavaScript's string length), no
//     separator;
//   - polling binary payload (XHR2 clients that did not ask for base64):
//     each packet as a kind byte (0 text, 1 binary), the length's decimal
//     digits as bytes of value 0 to 9, the byte 255, then the packet: text
//     as its UTF-8 text form, binary as the type byte and the data.
//
// The reference is engine.io's parser-v3 (engine.io-parser 2.2).

// ErrBadLength is a polling payload record whose length prefix is missing,
// malformed, or larger than what follows.
var ErrBadLength = errors.New("packet: invalid length in EIO3 payload")

// ErrNotUTF8 is a text record of an EIO3 binary payload that is not UTF-8.
var ErrNotUTF8 = errors.New("packet: EIO3 text record is not UTF-8")

// AppendTextV3 appends the protocol 3 text form of p to dst: "<digit><data>",
// or "b4"+base64(data) for a binary message. Text data that is not UTF-8
// is written repaired (utf8text.Repair), as a browser would read it.
func AppendTextV3(dst []byte, p Packet) []byte {
	if p.Binary && p.Type == Message {
		dst = append(dst, 'b', '0'+byte(Message))
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, utf8text.Repair(p.Data)...)
}

// DecodeTextV3 decodes one protocol 3 text packet: a websocket text frame
// or a record of a polling payload. "b<digit><base64>" is a packet with
// binary data (Binary only for a message); its Data is a new slice.
// Otherwise Data aliases b (capacity capped). Errors wrap ErrEmpty,
// ErrUnknownType or ErrBadBase64.
func DecodeTextV3(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	if b[0] != 'b' {
		return DecodeText(b) // the same as protocol 4 for text packets
	}
	if len(b) < 2 {
		return Packet{}, fmt.Errorf("%w: 'b' without a type", ErrUnknownType)
	}
	t := Type(b[1] - '0')
	if !t.Valid() {
		return Packet{}, fmt.Errorf("%w %q", ErrUnknownType, b[1])
	}
	data, err := decodeBase64(b[2:])
	if err != nil {
		return Packet{}, err
	}
	return Packet{Type: t, Data: data, Binary: t == Message}, nil
}

// AppendBinaryV3 appends the protocol 3 websocket binary frame of a binary
// message: the type byte, then the data.
func AppendBinaryV3(dst []byte, p Packet) []byte {
	return append(append(dst, byte(p.Type)), p.Data...)
}

// DecodeBinaryV3 decodes one protocol 3 websocket binary frame: its first
// byte is the packet type. ok is false for a frame the reference ignores
// (empty, or an unknown type byte). Data aliases b.
func DecodeBinaryV3(b []byte) (p Packet, ok bool) {
	if len(b) == 0 || !Type(b[0]).Valid() {
		return Packet{}, false
	}
	t := Type(b[0])
	return Packet{Type: t, Data: b[1:len(b):len(b)], Binary: t == Message}, true
}

// HasBinary reports whether any of pkts is a binary message.
func HasBinary(pkts []Packet) bool {
	for _, p := range pkts {
		if p.Binary && p.Type == Message {
			return true
		}
	}
	return false
}

// AppendPayloadV3 appends the protocol 3 text payload of pkts to dst: each
// packet's text form (AppendTextV3) prefixed with its length in UTF-16 code
// units and ':'. No packets is "0:", as the reference writes it.
func AppendPayloadV3(dst []byte, pkts []Packet) []byte {
	if len(pkts) == 0 {
		return append(dst, '0', ':')
	}
	for _, p := range pkts {
		dst = AppendRecordV3(dst, p)
	}
	return dst
}

// AppendRecordV3 appends one record of a protocol 3 text payload:
// "<length>:<text form>".
func AppendRecordV3(dst []byte, p Packet) []byte {
	if p.Binary && p.Type == Message {
		n := 2 + base64.StdEncoding.EncodedLen(len(p.Data)) // ASCII: one unit a byte
		dst = append(strconv.AppendInt(dst, int64(n), 10), ':')
		return AppendTextV3(dst, p)
	}
	data := utf8text.Repair(p.Data)
	dst = append(strconv.AppendInt(dst, int64(1+utf16Len(data)), 10), ':', '0'+byte(p.Type))
	return append(dst, data...)
}

// utf16Len is the length of the UTF-8 text s as a JavaScript string: one
// code unit per rune, two for a rune outside the Basic Multilingual Plane.
// s must be valid UTF-8 (what AppendTextV3 writes is).
func utf16Len(s []byte) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x80:
			i++
		case c < 0xE0:
			i += 2
		case c < 0xF0:
			i += 3
		default: // a 4-byte sequence: a surrogate pair in UTF-16
			i += 4
			n++
		}
		n++
	}
	return n
}

// AppendBinaryPayloadV3 appends the protocol 3 binary payload of pkts to
// dst, which the reference sends (as application/octet-stream) to polling
// clients that support binary when pkts hold a binary message.
func AppendBinaryPayloadV3(dst []byte, pkts []Packet) []byte {
	for _, p := range pkts {
		dst = AppendBinaryRecordV3(dst, p)
	}
	return dst
}

// AppendBinaryRecordV3 appends one record of a protocol 3 binary payload.
func AppendBinaryRecordV3(dst []byte, p Packet) []byte {
	binary := p.Binary && p.Type == Message
	kind, data := byte(0), p.Data
	if binary {
		kind = 1
	} else {
		data = utf8text.Repair(data)
	}
	dst = append(dst, kind)
	var digits [20]byte
	for _, d := range strconv.AppendInt(digits[:0], int64(1+len(data)), 10) {
		dst = append(dst, d-'0')
	}
	if binary {
		dst = append(dst, 255, byte(p.Type))
	} else {
		dst = append(dst, 255, '0'+byte(p.Type))
	}
	return append(dst, data...)
}

// maxLengthDigits bounds a length prefix: more digits than a body can hold
// bytes is malformed anyway.
const maxLengthDigits = 10

// DecodePayloadV3 decodes a protocol 3 text payload (a polling POST body
// without a binary content type) and calls fn with each packet, in order.
//
// The body is read as UTF-8 the way the reference reads it (each maximal
// ill-formed subsequence becomes U+FFFD), and the lengths count UTF-16 code
// units. A record of length 0 ("0:") carries no packet and is skipped. It
// stops at the first error, from decoding or from fn, and returns it;
// packets before the failing record have been passed to fn, as with the
// reference. An empty body is ErrEmpty; a length that is not decimal
// digits, runs past the body, or ends inside a character that UTF-16
// needs two units for, is ErrBadLength. Data aliases body (or its repaired
// copy), as DecodeTextV3 describes.
func DecodePayloadV3(body []byte, fn func(Packet) error) error {
	if len(body) == 0 {
		return ErrEmpty
	}
	body = utf8text.Repair(body)
	for rec := 0; len(body) > 0; rec++ {
		colon := bytes.IndexByte(body, ':')
		if colon < 0 || colon == 0 || colon > maxLengthDigits {
			return fmt.Errorf("payload record %d: %w", rec, ErrBadLength)
		}
		n := 0
		for _, c := range body[:colon] {
			if c < '0' || c > '9' {
				return fmt.Errorf("payload record %d: %w: %q", rec, ErrBadLength, body[:colon])
			}
			n = n*10 + int(c-'0')
		}
		rest := body[colon+1:]
		end, ok := utf16Prefix(rest, n)
		if !ok {
			return fmt.Errorf("payload record %d: %w: %d units", rec, ErrBadLength, n)
		}
		if end > 0 {
			p, err := DecodeTextV3(rest[:end:end])
			if err == nil {
				err = fn(p)
			}
			if err != nil {
				return fmt.Errorf("payload record %d: %w", rec, err)
			}
		}
		body = rest[end:]
	}
	return nil
}

// utf16Prefix returns the byte length of the first n UTF-16 code units of
// the valid UTF-8 text s; ok is false when s is shorter or the n-th unit
// is the first half of a surrogate pair.
func utf16Prefix(s []byte, n int) (end int, ok bool) {
	units := 0
	for end < len(s) && units < n {
		c := s[end]
		switch {
		case c < 0x80:
			end++
		case c < 0xE0:
			end += 2
		case c < 0xF0:
			end += 3
		default:
			end += 4
			units++
		}
		units++
	}
	return end, units == n
}

// DecodeBinaryPayloadV3 decodes a protocol 3 binary payload (a polling POST
// body sent as application/octet-stream) and calls fn with each packet, in
// order. Text records must be UTF-8 (the reference fails the payload
// otherwise); binary records whose type byte is unknown, or that are
// empty, are skipped as the reference skips them. Errors: ErrEmpty for an
// empty body, ErrBadLength for a malformed length or a record that runs
// past the body, and those of DecodeTextV3 and fn; packets before the
// failing record have been passed to fn. Data aliases body, except for
// base64 text records.
func DecodeBinaryPayloadV3(body []byte, fn func(Packet) error) error {
	if len(body) == 0 {
		return ErrEmpty
	}
	for rec := 0; len(body) > 0; rec++ {
		text := body[0] == 0
		i, n := 1, 0
		for ; i < len(body) && body[i] != 255; i++ {
			if body[i] > 9 || i > maxLengthDigits {
				return fmt.Errorf("payload record %d: %w", rec, ErrBadLength)
			}
			n = n*10 + int(body[i])
		}
		if i == 1 || i == len(body) || n > len(body)-i-1 {
			return fmt.Errorf("payload record %d: %w", rec, ErrBadLength)
		}
		msg := body[i+1 : i+1+n : i+1+n]
		body = body[i+1+n:]
		var (
			p   Packet
			err error
		)
		if text {
			if !utf8.Valid(msg) {
				return fmt.Errorf("payload record %d: %w", rec, ErrNotUTF8)
			}
			p, err = DecodeTextV3(msg)
		} else {
			var ok bool
			if p, ok = DecodeBinaryV3(msg); !ok {
				continue
			}
		}
		if err == nil {
			err = fn(p)
		}
		if err != nil {
			return fmt.Errorf("payload record %d: %w", rec, err)
		}
	}
	return nil
}
