package load

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// fragments streams a text message that never ends: a first fragment of
// 1 MiB, then continuation frames of 1 MiB, none final. The frames are
// made as they are read, so the test holds only what the reader keeps.
func fragments(count int) io.Reader {
	const size = 1 << 20
	hdr := func(op byte) []byte { return []byte{op, 127, 0, 0, 0, 0, 0, size >> 16, 0, 0} }
	rs := []io.Reader{bytes.NewReader(hdr(opText)), io.LimitReader(zeros{}, size)}
	for range count - 1 {
		rs = append(rs, bytes.NewReader(hdr(opContinuation)), io.LimitReader(zeros{}, size))
	}
	return io.MultiReader(rs...)
}

func TestReadMessageFragmentLimit(t *testing.T) {
	// One fragment past the limit: the reader must stop there, not at EOF.
	r := frameReader{br: bufio.NewReaderSize(fragments(maxMessage>>20+1), 4096)}
	_, _, err := r.readMessage(nil)
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("got %v, want the message limit", err)
	}
	if len(r.buf) > maxMessage {
		t.Fatalf("joined %d bytes, limit %d", len(r.buf), maxMessage)
	}
}

func TestReadMessageAtFragmentLimit(t *testing.T) {
	// Exactly maxMessage, then a final empty continuation: accepted.
	in := io.MultiReader(fragments(maxMessage>>20), bytes.NewReader([]byte{0x80 | opContinuation, 0}))
	r := frameReader{br: bufio.NewReaderSize(in, 4096)}
	op, msg, err := r.readMessage(nil)
	if err != nil || op != opText || len(msg) != maxMessage {
		t.Fatalf("got op %d, %d bytes, %v; want a text message of %d bytes", op, len(msg), err, maxMessage)
	}
}

func TestReadFrameTruncated(t *testing.T) {
	// A frame longer than the buffer whose bytes stop early: an unexpected
	// EOF, and what was allocated follows what came, not the header.
	in := append([]byte{0x82, 127, 0, 0, 0, 0, 0, 0xf0, 0, 0}, make([]byte, 10000)...)
	r := frameReader{br: bufio.NewReaderSize(bytes.NewReader(in), 4096)}
	if _, _, _, err := r.readFrame(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
}
