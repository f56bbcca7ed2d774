package packet

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"unicode/utf8"

	"github.com/sockio/sockio/internal/utf8text"
)

// DecodeText decodes one WebSocket text frame or one polling record.
// A record starting with 'b' is a base64 binary message; its Data is a new
// slice. Otherwise the first byte is the type digit and Data aliases b.
//
// Errors wrap ErrEmpty, ErrUnknownType or ErrBadBase64. The data of text
// packets is not checked for UTF-8 validity: over WebSocket the transport
// refuses a text frame that is not UTF-8 (close 1007), and DecodePayload
// repairs polling records.
func DecodeText(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	c := b[0]
	if c == 'b' {
		data, err := decodeBase64(b[1:])
		if err != nil {
			return Packet{}, err
		}
		return Packet{Type: Message, Data: data, Binary: true}, nil
	}
	t := Type(c - '0') // a byte below '0' wraps to a large value: unknown
	if !t.Valid() {
		return Packet{}, fmt.Errorf("%w %q", ErrUnknownType, c)
	}
	// Cap capacity so an append by the caller cannot clobber the bytes
	// that follow (the next record of a payload).
	return Packet{Type: t, Data: b[1:len(b):len(b)]}, nil
}

// decodeBase64 decodes standard base64. Padding is expected (every known
// client sends it) but unpadded input is accepted too, as the reference
// server is lenient there. Like encoding/base64, it skips '\r' and '\n'.
func decodeBase64(s []byte) ([]byte, error) {
	// The unpadded decoder may need more room than the padded one (7 chars
	// hold 5 bytes unpadded, 3 padded), and too small a dst panics.
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, s)
	if err != nil && len(s)%4 != 0 && bytes.IndexByte(s, '=') < 0 {
		n, err = base64.RawStdEncoding.Decode(out, s)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBase64, err)
	}
	return out[:n:n], nil
}

// DecodeBinary decodes one WebSocket binary frame: always a binary message
// whose Data is b itself.
func DecodeBinary(b []byte) Packet {
	return Packet{Type: Message, Data: b, Binary: true}
}

// DecodePayload splits a polling POST body on Separator and calls fn with
// each decoded packet, in order. Packets alias body as DecodeText describes.
//
// A payload is text, so it is decoded as UTF-8 the way the reference does
// it (Node.js reads a POST body with req.setEncoding("utf8"), a browser a
// GET response as UTF-8 text): in the data of a text packet, each maximal
// ill-formed subsequence becomes U+FFFD, and such a packet's Data is then
// a new slice. A server must not hand on bytes that no peer would accept
// as text: a WebSocket client fails the connection on an invalid UTF-8
// frame. Base64 records ('b') are left alone; bytes outside the base64
// alphabet fail them with ErrBadBase64 anyway.
//
// It stops at the first error, from decoding or from fn, and returns it
// wrapped with the zero-based record index; packets before the failing
// record have already been passed to fn. An empty body or an empty record
// is ErrEmpty. If maxPackets > 0 and body holds more records, the result is
// ErrTooManyPackets and fn is not called at all.
func DecodePayload(body []byte, maxPackets int, fn func(Packet) error) error {
	if len(body) == 0 {
		return ErrEmpty
	}
	// Check the bound up front so an oversized payload has no effect.
	if maxPackets > 0 {
		if n := bytes.Count(body, []byte{Separator}) + 1; n > maxPackets {
			return fmt.Errorf("payload record %d: %w (%d records, limit %d)",
				maxPackets, ErrTooManyPackets, n, maxPackets)
		}
	}
	valid := utf8.Valid(body) // once: most bodies are, and then every record is
	for i := 0; ; i++ {
		rec, rest, more := bytes.Cut(body, []byte{Separator})
		p, err := DecodeText(rec)
		if err == nil {
			if !valid && !p.Binary {
				p.Data = utf8text.Repair(p.Data)
			}
			err = fn(p)
		}
		if err != nil {
			return fmt.Errorf("payload record %d: %w", i, err)
		}
		if !more {
			return nil
		}
		body = rest
	}
}
