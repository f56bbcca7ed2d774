package packet

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzStreamReader feeds arbitrary bytes to the WebTransport frame reader:
// it must end with a known error or io.EOF, never panic, never return a
// packet longer than its limit, and what it returns must re-encode to a
// frame that reads back the same.
func FuzzStreamReader(f *testing.F) {
	for _, v := range streamVectors[:6] {
		f.Add(AppendStreamFrame(nil, v.p))
	}
	f.Add([]byte("\x00"))
	f.Add([]byte("\x7f\x00\x00\x00\x00\x00\x00\x10\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 4096
		sr := NewStreamReader(bytes.NewReader(in), limit)
		for i := 0; i < len(in)+1; i++ {
			p, err := sr.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrEmpty) &&
					!errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrUnknownType) && !errors.Is(err, ErrBadBase64) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(p.Data) > limit {
				t.Fatalf("packet of %d bytes past the limit %d", len(p.Data), limit)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("invalid packet %+v: %v", p, err)
			}
			if !p.Binary && !utf8.Valid(p.Data) {
				t.Fatalf("text packet with invalid UTF-8: %q", p.Data)
			}
			if p.Binary && len(p.Data) == 0 {
				continue // "b" with no base64: no frame can carry it, nor can the reference's
			}
			q, err := NewStreamReader(bytes.NewReader(AppendStreamFrame(nil, p)), limit+1).Next()
			if err != nil || !equal(p, q) {
				t.Fatalf("round trip of %+v: %+v, %v", p, q, err)
			}
		}
		t.Fatal("more packets than input bytes")
	})
}
