package packet

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

// streamVectors are the first bytes and the length of what the reference's
// createPacketEncoderStream (engine.io-parser 5.2.3) writes for each packet.
var streamVectors = []struct {
	p    Packet
	n    int
	head string // hex of the first bytes
}{
	{Packet{Type: Open}, 2, "0130"},
	{Packet{Type: Message, Data: []byte("hello")}, 7, "063468656c6c6f"},
	{Packet{Type: Ping, Data: []byte("probe")}, 7, "063270726f6265"},
	{Packet{Type: Message, Data: []byte{1, 2, 3}, Binary: true}, 4, "83010203"},
	{Packet{Type: Message, Data: bytes.Repeat([]byte("x"), 125)}, 129, "7e007e347878787878787878"},
	{Packet{Type: Message, Data: bytes.Repeat([]byte("é"), 100)}, 204, "7e00c934c3a9c3a9c3a9c3a9"},
	{Packet{Type: Message, Data: bytes.Repeat([]byte{7}, 70000), Binary: true}, 70009, "ff0000000000011170070707"},
}

func TestStreamFrameMatchesReference(t *testing.T) {
	var all []byte
	for _, v := range streamVectors {
		b := AppendStreamFrame(nil, v.p)
		if len(b) != v.n || hex.EncodeToString(b[:min(len(b), 12)]) != v.head {
			t.Errorf("%v: %d bytes %x…, want %d bytes %s…", v.p.Type, len(b), b[:min(len(b), 12)], v.n, v.head)
		}
		all = append(all, b...)
	}
	// Read back in one stream, through a reader that returns a byte at a
	// time: frames split anywhere.
	sr := NewStreamReader(&oneByte{all}, 1<<20)
	for _, v := range streamVectors {
		p, err := sr.Next()
		if err != nil || !equal(p, v.p) {
			t.Fatalf("read %+v, %v; want %v", p.Type, err, v.p.Type)
		}
	}
	if _, err := sr.Next(); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

type oneByte struct{ b []byte }

func (r *oneByte) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func TestStreamReaderRefuses(t *testing.T) {
	cases := []struct {
		name, in string
		want     error
	}{
		{"empty frame", "\x00", ErrEmpty},
		{"empty binary frame", "\x80", ErrEmpty},
		{"over the limit", "\x7e\x01\x01" + strings.Repeat("4", 257), ErrFrameTooLarge},
		{"64-bit length over the limit", "\x7f\xff\xff\xff\xff\xff\xff\xff\xff", ErrFrameTooLarge},
		{"unknown type", "\x019", ErrUnknownType},
		{"bad base64", "\x03b!!", ErrBadBase64},
		{"cut in the length", "\x7e\x01", io.ErrUnexpectedEOF},
		{"cut in the payload", "\x05" + "4ab", io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		_, err := NewStreamReader(strings.NewReader(tc.in), 256).Next()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestStreamReaderRepairsText(t *testing.T) {
	p, err := NewStreamReader(strings.NewReader("\x044a\xffb"), 256).Next()
	if err != nil || string(p.Data) != "a\uFFFDb" {
		t.Fatalf("got %q, %v", p.Data, err)
	}
	// Base64 binary in a text frame, as decodePacket accepts it.
	p, err = NewStreamReader(strings.NewReader("\x05bAQI="), 256).Next()
	if err != nil || !p.Binary || !bytes.Equal(p.Data, []byte{1, 2}) {
		t.Fatalf("got %+v, %v", p, err)
	}
}

// TestStreamEmptyBinary: an empty binary message survives the stream, as
// the text frame "b", which the reference decodes as an empty buffer too.
func TestStreamEmptyBinary(t *testing.T) {
	b := AppendStreamFrame(nil, Packet{Type: Message, Binary: true})
	if string(b) != "\x01b" {
		t.Fatalf("frame %q, want \"\\x01b\"", b)
	}
	p, err := NewStreamReader(bytes.NewReader(b), 10).Next()
	if err != nil || !p.Binary || p.Type != Message || len(p.Data) != 0 {
		t.Fatalf("read back %+v, %v", p, err)
	}
}
