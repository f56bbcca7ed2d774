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
	comparePolledWith(t, ln, in, limit, chunk, pause, false)
}

// comparePolledWith is comparePolled; with deflate, permessage-deflate is
// negotiated with context takeover both ways.
func comparePolledWith(t *testing.T, ln net.Listener, in []byte, limit int64, chunk int, pause time.Duration, deflate bool) {
	t.Helper()
	pair := func() (*Conn, net.Conn) {
		c, cl := rawPair(t, ln, limit)
		if deflate {
			c.defl = newDeflate(deflateParams{}, false)
		}
		return c, cl
	}
	c, cl := pair()
	back := feed(cl, in, 0, 0)
	want := readBlocking(c)
	_ = c.CloseNow()
	wantBack := <-back

	c, cl = pair()
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

// TestPolledReadMatchesReadDeflate: compressed connections are read from
// the poller too, and inflate the same way, context included.
func TestPolledReadMatchesReadDeflate(t *testing.T) {
	ln := listen(t)
	d := newDeflate(deflateParams{}, true) // a client's, keeping its context
	msg := func(s string) []byte { return frameBytes(0xC1, d.compress(nil, []byte(s)), true) }
	stream := bytes.Join([][]byte{
		msg("4hello hello hello"), msg("4hello hello hello"), clientFrame(true, 9, []byte("p")),
		clientFrame(true, 1, []byte("4plain")), msg("4" + strings.Repeat("x", 10000)), msg("4hello hello hello"),
	}, nil)
	cases := map[string][]byte{
		"takeover":     stream,
		"corrupt":      append(msg("4a"), frameBytes(0xC1, []byte{0xff, 0xff, 0xff}, true)...),
		"rsv1 on cont": append(frameBytes(0x41, []byte{1}, true), frameBytes(0xC0, []byte{1}, true)...),
		"inflated big": compressedFrame(make([]byte, 1<<17)),
	}
	// And what both read is the messages sent.
	c, cl := rawPair(t, ln, 1<<16)
	c.defl = newDeflate(deflateParams{}, false)
	go func() { _, _ = cl.Write(stream); _, _ = io.Copy(io.Discard, cl) }()
	for i, want := range []string{"4hello hello hello", "4hello hello hello", "4plain", "4" + strings.Repeat("x", 10000), "4hello hello hello"} {
		if _, got, err := c.Read(); err != nil || string(got) != want {
			t.Fatalf("message %d: %.20q, %v", i, got, err)
		}
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) { comparePolledWith(t, ln, in, 1<<16, 0, 0, true) })
		t.Run(name+" in pieces", func(t *testing.T) { comparePolledWith(t, ln, in, 1<<16, 5, 100*time.Microsecond, true) })
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
