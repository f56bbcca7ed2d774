//go:build linux

package wsconn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// readOutcome is what a reader made of a client's bytes: the messages, then
// the kind of error that ended the connection.
type readOutcome struct {
	msgs []string
	end  string
}

func errKind(err error) string {
	switch {
	case errors.Is(err, ErrProtocol):
		return "protocol"
	case errors.Is(err, ErrInvalidUTF8):
		return "utf8"
	case errors.Is(err, ErrMessageTooBig):
		return "too big"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected eof"
	case errors.Is(err, io.EOF):
		return "eof"
	case CloseCode(err) >= 0:
		return fmt.Sprintf("close %d", CloseCode(err))
	}
	return "other: " + err.Error()
}

// feed writes in to the client's end, in pieces of chunk bytes (all at
// once if chunk is 0) a little apart, so that the server reads it piece by
// piece; then it half-closes and returns everything the server sent back.
func feed(cl net.Conn, in []byte, chunk int, pause time.Duration) <-chan []byte {
	back := make(chan []byte, 1)
	go func() {
		for len(in) > 0 {
			n := len(in)
			if chunk > 0 {
				n = min(n, chunk)
			}
			_, _ = cl.Write(in[:n])
			in = in[n:]
			time.Sleep(pause)
		}
		_ = cl.(*net.TCPConn).CloseWrite()
		_ = cl.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(cl)
		back <- b
	}()
	return back
}

// readBlocking reads as a connection's own goroutine does.
func readBlocking(c *Conn) readOutcome {
	var out readOutcome
	for {
		typ, data, err := c.Read()
		if err != nil {
			out.end = errKind(err)
			return out
		}
		out.msgs = append(out.msgs, fmt.Sprintf("%d:%s", typ, data))
	}
}

// readPolled reads as engineio does from a poller: what the buffer holds
// completes on the poller's goroutine, the rest on a reader that takes
// over (which, unlike engineio's, never hands back).
func readPolled(t *testing.T, c *Conn) readOutcome {
	done := make(chan readOutcome, 1)
	var out readOutcome
	err := c.Watch(func() {
		if c.FillNow() {
			for {
				typ, data, ok := c.ReadBuffered()
				if !ok {
					break
				}
				out.msgs = append(out.msgs, fmt.Sprintf("%d:%s", typ, data))
			}
			if !c.NeedsReader() {
				return
			}
		}
		c.Unwatch()
		go func() {
			rest := readBlocking(c)
			out.msgs = append(out.msgs, rest.msgs...)
			out.end = rest.end
			done <- out
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-done:
		return out
	case <-time.After(10 * time.Second):
		t.Fatal("the polled reader did not finish")
		return readOutcome{}
	}
}

// comparePolled checks that reading in through a poller gives the same
// messages, the same end and the same bytes back (pongs, close frames) as
// reading it with Read alone.
func comparePolled(t *testing.T, ln net.Listener, in []byte, limit int64, chunk int, pause time.Duration) {
	t.Helper()
	c, cl := rawPair(t, ln, limit)
	back := feed(cl, in, 0, 0)
	want := readBlocking(c)
	_ = c.CloseNow()
	wantBack := <-back

	c, cl = rawPair(t, ln, limit)
	back = feed(cl, in, chunk, pause)
	got := readPolled(t, c)
	_ = c.CloseNow()
	gotBack := <-back

	if strings.Join(got.msgs, "|") != strings.Join(want.msgs, "|") || got.end != want.end {
		t.Fatalf("polled: %q, then %s\nread:   %q, then %s", got.msgs, got.end, want.msgs, want.end)
	}
	if !bytes.Equal(gotBack, wantBack) {
		t.Fatalf("polled reader sent % x\nread sent % x", gotBack, wantBack)
	}
	if c.rr.buf != nil {
		t.Fatal("buffer held after the end")
	}
}

func TestPolledReadMatchesRead(t *testing.T) {
	ln := listen(t)
	cat := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	cases := map[string][]byte{
		"messages then eof": cat(clientFrame(true, 1, []byte("4a")), clientFrame(true, 2, []byte{1, 2}), clientFrame(true, 1, nil)),
		"fragmented":        cat(clientFrame(false, 1, []byte("4a")), clientFrame(false, 0, []byte("b")), clientFrame(true, 0, []byte("c"))),
		"ping between":      cat(clientFrame(true, 1, []byte("4a")), clientFrame(true, 9, []byte("p")), clientFrame(true, 1, []byte("4b"))),
		"ping inside":       cat(clientFrame(false, 1, []byte("4a")), clientFrame(true, 9, nil), clientFrame(true, 0, []byte("b"))),
		"larger than buffer": cat(clientFrame(true, 1, []byte("4x")), clientFrame(true, 2, bytes.Repeat([]byte{9}, 3*readBufSize)),
			clientFrame(true, 1, []byte("4y"))),
		"close":          cat(clientFrame(true, 1, []byte("4a")), clientFrame(true, 8, []byte{0x03, 0xe8, 'b', 'y', 'e'})),
		"invalid utf-8":  cat(clientFrame(true, 1, []byte("4a")), clientFrame(true, 1, []byte{'4', 0xff}), clientFrame(true, 1, []byte("4b"))),
		"reserved bits":  cat(clientFrame(true, 1, []byte("4a")), []byte{0xc1, 0x80, 0, 0, 0, 0}),
		"too big":        cat(clientFrame(true, 1, []byte("4a")), clientFrame(true, 2, make([]byte, 200))),
		"cut off":        cat(clientFrame(true, 1, []byte("4a")), clientFrame(true, 1, []byte("4bcdef"))[:5]),
		"continuation":   cat(clientFrame(true, 0, []byte("x"))),
		"unmasked":       {0x81, 0x01, 'a'},
		"64-bit length":  {0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
		"empty":          nil,
		"many in a read": bytes.Repeat(clientFrame(true, 1, []byte("4hello")), 1000),
		// Around the 4 KiB read buffer (a 126-65535 byte payload has an
		// 8-byte header): ending exactly at its end, one byte past it,
		// after a small message (the buffer is compacted), and a header
		// cut by its end.
		"buffer-sized":   clientFrame(true, 2, bytes.Repeat([]byte{1}, readBufSize-8)),
		"one past":       clientFrame(true, 2, bytes.Repeat([]byte{1}, readBufSize-7)),
		"small then big": cat(clientFrame(true, 1, []byte("4a")), clientFrame(true, 2, bytes.Repeat([]byte{1}, readBufSize-12))),
		"header cut":     cat(clientFrame(true, 2, bytes.Repeat([]byte{1}, readBufSize-12)), clientFrame(true, 2, bytes.Repeat([]byte{2}, 300))),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) { comparePolled(t, ln, in, 128, 0, 0) })
		t.Run(name+" no limit", func(t *testing.T) { comparePolled(t, ln, in, 1<<16, 0, 0) })
		// Frames cut anywhere: the poller waits for the rest of one that
		// fits its buffer, and hands larger ones to Read.
		chunk := 3
		if len(in) > 1000 {
			chunk = 997
		}
		t.Run(name+" in pieces", func(t *testing.T) { comparePolled(t, ln, in, 1<<16, chunk, 200*time.Microsecond) })
	}
}

// FuzzPolledRead: whatever the client sends, reading through a poller and
// reading with Read alone agree, message for message and byte for byte.
func FuzzPolledRead(f *testing.F) {
	f.Add(clientFrame(true, 1, []byte("4hello")), uint8(3))
	f.Add(append(clientFrame(false, 1, []byte("4a")), clientFrame(true, 0, []byte("b"))...), uint8(3))
	f.Add(append(clientFrame(true, 9, []byte("ping")), clientFrame(true, 1, []byte("4x"))...), uint8(3))
	f.Add(clientFrame(true, 8, []byte{0x03, 0xe8}), uint8(3))
	f.Add(clientFrame(true, 2, bytes.Repeat([]byte{7}, 300)), uint8(3))
	f.Add([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}, uint8(3))
	ln := listen(f)
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		comparePolled(t, ln, in, 1<<16, int(chunk), 0)
	})
}
