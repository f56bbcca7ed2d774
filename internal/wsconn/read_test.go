package wsconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawPair returns a server-side Conn reading with frameReader over loopback
// TCP, and the client's end of the socket.
func rawPair(tb testing.TB, ln net.Listener, limit int64) (*Conn, net.Conn) {
	return rawPairWith(tb, ln, limit, true)
}

// rawPairWith is rawPair; without useFD the reader uses plain blocking
// reads, as over TLS.
func rawPairWith(tb testing.TB, ln net.Listener, limit int64, useFD bool) (*Conn, net.Conn) {
	tb.Helper()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	sc, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	c := &Conn{nc: sc, rc: rawConn(sc), fragment: 4096}
	if c.rc == nil && useFD {
		tb.Skip("no descriptor reads on this platform")
	}
	if !useFD {
		c.rc = nil
	}
	c.rr = &frameReader{c: c, rc: c.rc, limit: limit}
	tb.Cleanup(func() { sc.Close(); cl.Close() })
	return c, cl
}

func listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// clientFrame builds a masked client frame.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range payload {
		b[start+i] ^= key[i&3]
	}
	return b
}

// readServerFrame reads one unmasked frame the server sent.
func readServerFrame(t *testing.T, c net.Conn) (op byte, payload []byte) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		t.Fatalf("reading the server's frame: %v", err)
	}
	payload = make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(c, payload); err != nil {
		t.Fatal(err)
	}
	return h[0] & 0x0f, payload
}

// TestFrameReaderMessages sends messages of every header size, fragmented
// ones with a ping in between, and all of it one byte per write, and checks
// each message and the pong.
func TestFrameReaderMessages(t *testing.T) {
	ln := listen(t)
	for _, mode := range []struct{ split, useFD bool }{{false, true}, {true, true}, {false, false}, {true, false}} {
		split := mode.split
		c, cl := rawPairWith(t, ln, 0, mode.useFD)
		big := bytes.Repeat([]byte("0123456789"), 7000) // 70,000 bytes: 64-bit length, read past the buffer
		var stream []byte
		stream = append(stream, clientFrame(true, 1, []byte("4hello"))...)
		stream = append(stream, clientFrame(true, 2, nil)...)
		stream = append(stream, clientFrame(true, 2, big[:300])...)
		stream = append(stream, clientFrame(false, 1, []byte("4frag"))...)
		stream = append(stream, clientFrame(true, 9, []byte("hi"))...)
		stream = append(stream, clientFrame(false, 0, []byte("ment"))...)
		stream = append(stream, clientFrame(true, 0, []byte("ed é"))...)
		stream = append(stream, clientFrame(true, 2, big)...)
		go func() {
			if !split {
				_, _ = cl.Write(stream)
				return
			}
			for i := range stream {
				if _, err := cl.Write(stream[i : i+1]); err != nil {
					return
				}
			}
		}()
		want := []struct {
			typ  MessageType
			data []byte
		}{{Text, []byte("4hello")}, {Binary, []byte{}}, {Binary, big[:300]}, {Text, []byte("4fragmented é")}, {Binary, big}}
		for i, w := range want {
			typ, data, err := c.Read()
			if err != nil || typ != w.typ || !bytes.Equal(data, w.data) {
				t.Fatalf("split %v, message %d: type %d, %d bytes %.20q, %v", split, i, typ, len(data), data, err)
			}
		}
		if op, p := readServerFrame(t, cl); op != opPong || string(p) != "hi" {
			t.Fatalf("split %v: got op %d %q, want the pong", split, op, p)
		}
		if c.rr.buf != nil {
			t.Fatalf("split %v: a buffer is held with nothing buffered", split)
		}
	}
}

// TestFrameReaderErrors checks that each violation gets its close code and
// error, and that a clean close is echoed.
func TestFrameReaderErrors(t *testing.T) {
	ln := listen(t)
	unmasked := clientFrame(true, 1, []byte("x"))
	unmasked[1] &^= 0x80
	cases := []struct {
		name  string
		in    []byte
		limit int64
		code  int
		err   func(error) bool
	}{
		{"unmasked", unmasked, 0, 1002, isProtocol},
		{"reserved bit", append([]byte{0xC1}, clientFrame(true, 1, []byte("x"))[1:]...), 0, 1002, isProtocol},
		{"opcode 3", clientFrame(true, 3, nil), 0, 1002, isProtocol},
		{"fragmented ping", clientFrame(false, 9, nil), 0, 1002, isProtocol},
		{"long ping", clientFrame(true, 9, make([]byte, 126)), 0, 1002, isProtocol},
		{"lone continuation", clientFrame(true, 0, []byte("x")), 0, 1002, isProtocol},
		{"text inside text", append(clientFrame(false, 1, []byte("a")), clientFrame(true, 1, []byte("b"))...), 0, 1002, isProtocol},
		{"1-byte close", clientFrame(true, 8, []byte{3}), 0, 1002, isProtocol},
		{"close code 1005", clientFrame(true, 8, []byte{0x03, 0xed}), 0, 1002, isProtocol},
		{"invalid UTF-8", clientFrame(true, 1, []byte{'4', 0xff}), 0, 1007, is(ErrInvalidUTF8)},
		{"too big", clientFrame(true, 2, make([]byte, 11)), 10, 1009, is(ErrMessageTooBig)},
		{"too big in fragments", append(clientFrame(false, 2, make([]byte, 6)), clientFrame(true, 0, make([]byte, 6))...), 10, 1009, is(ErrMessageTooBig)},
		{"close 1000", clientFrame(true, 8, []byte{0x03, 0xe8, 'o', 'k'}), 0, 1000, func(err error) bool { return CloseCode(err) == 1000 }},
		{"close without code", clientFrame(true, 8, nil), 0, -1, func(err error) bool { return CloseCode(err) == 1005 }},
		{"cut in the header", []byte{0x81}, 0, 0, is(io.ErrUnexpectedEOF)},
		{"cut in the payload", clientFrame(true, 1, []byte("hello"))[:8], 0, 0, is(io.ErrUnexpectedEOF)},
		{"clean EOF", nil, 0, 0, is(io.EOF)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, cl := rawPair(t, ln, tc.limit)
			_, _ = cl.Write(tc.in)
			if tc.code == 0 {
				_ = cl.(*net.TCPConn).CloseWrite()
			}
			_, _, err := c.Read()
			if !tc.err(err) {
				t.Fatalf("error %v", err)
			}
			if tc.code == 0 {
				return
			}
			op, p := readServerFrame(t, cl)
			if op != opClose {
				t.Fatalf("got op %d, want a close", op)
			}
			got := -1
			if len(p) >= 2 {
				got = int(binary.BigEndian.Uint16(p))
			}
			if got != tc.code {
				t.Fatalf("close code %d, want %d", got, tc.code)
			}
		})
	}
}

func isProtocol(err error) bool { return errors.Is(err, ErrProtocol) }

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// TestFrameReaderIdle checks that a connection waiting for data holds no
// read buffer, and that data arriving later is read.
func TestFrameReaderIdle(t *testing.T) {
	ln := listen(t)
	c, cl := rawPair(t, ln, 0)
	got := make(chan string, 1)
	go func() {
		_, data, err := c.Read()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(data)
	}()
	time.Sleep(50 * time.Millisecond)
	_, _ = cl.Write(clientFrame(true, 1, []byte(strings.Repeat("z", 5000))))
	select {
	case s := <-got:
		if s != strings.Repeat("z", 5000) {
			t.Fatalf("got %.40q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	if c.rr.buf != nil {
		t.Fatal("buffer held after the message")
	}
}

// FuzzFrameReader feeds arbitrary client bytes through a real socket: the
// reader must end with an error, never panic or hang, and leave no buffer.
func FuzzFrameReader(f *testing.F) {
	f.Add(clientFrame(true, 1, []byte("4hello")))
	f.Add(append(clientFrame(false, 1, []byte("4a")), clientFrame(true, 0, []byte("b"))...))
	f.Add(clientFrame(true, 9, []byte("ping")))
	f.Add(clientFrame(true, 8, []byte{0x03, 0xe8}))
	f.Add(clientFrame(true, 2, bytes.Repeat([]byte{7}, 300)))
	f.Add([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4})
	ln := listen(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, cl := rawPair(t, ln, 1<<16)
		go func() {
			_, _ = cl.Write(in)
			_ = cl.(*net.TCPConn).CloseWrite()
			_, _ = io.Copy(io.Discard, cl) // take pongs and closes
		}()
		_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for i := 0; ; i++ {
			typ, data, err := c.Read()
			if err != nil {
				if errors.Is(err, ErrProtocol) || errors.Is(err, ErrInvalidUTF8) || errors.Is(err, ErrMessageTooBig) ||
					errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || CloseCode(err) >= 0 {
					break
				}
				t.Fatalf("unexpected error %v", err)
			}
			if typ != Text && typ != Binary || len(data) > 1<<16 || i > len(in) {
				t.Fatalf("message %d: type %d, %d bytes from %d input bytes", i, typ, len(data), len(in))
			}
		}
		if c.rr.buf != nil {
			t.Fatal("buffer held after the end")
		}
	})
}

// TestFrameReaderIdleHandoff checks ReturnWhenIdle: an idle connection
// reports ErrIdle with nothing lost, a half-read frame does not, Read never
// does (it may be inside a fragmented message), and a connection that keeps
// receiving does not.
func TestFrameReaderIdleHandoff(t *testing.T) {
	ln := listen(t)
	c, cl := rawPair(t, ln, 0)
	c.ReturnWhenIdle(30 * time.Millisecond)
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))

	// Idle: ErrIdle, then the message sent afterwards is read whole.
	if err := c.WaitData(); !errors.Is(err, ErrIdle) {
		t.Fatalf("idle read: %v, want ErrIdle", err)
	}
	frame := clientFrame(true, 1, []byte("4after"))
	go func() {
		time.Sleep(60 * time.Millisecond) // past another idle period: none is armed now
		_, _ = cl.Write(frame[:3])        // half a header...
		time.Sleep(100 * time.Millisecond)
		_, _ = cl.Write(frame[3:]) // ...then the rest
	}()
	if err := c.WaitData(); err != nil {
		t.Fatalf("waiting after idle: %v", err)
	}
	if _, data, err := c.Read(); err != nil || string(data) != "4after" {
		t.Fatalf("after idle: %q, %v", data, err)
	}

	// A pause between the fragments of one message is not idleness.
	go func() {
		_, _ = cl.Write(clientFrame(false, 1, []byte("4fr")))
		time.Sleep(100 * time.Millisecond)
		_, _ = cl.Write(clientFrame(true, 0, []byte("ag")))
	}()
	if err := c.WaitData(); err != nil {
		t.Fatalf("waiting for the fragments: %v", err)
	}
	if _, data, err := c.Read(); err != nil || string(data) != "4frag" {
		t.Fatalf("fragments with a pause: %q, %v", data, err)
	}

	// Busy: a frame every 5 ms for 300 ms never reports idle.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 60; i++ {
			if _, err := cl.Write(clientFrame(true, 1, []byte("4x"))); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for i := 0; i < 60; i++ {
		if err := c.WaitData(); errors.Is(err, ErrIdle) {
			// A stalled sender (a loaded machine) may legitimately leave
			// a whole period without bytes: only then is ErrIdle allowed.
			i--
			continue
		}
		_, data, err := c.Read()
		if err != nil || string(data) != "4x" {
			t.Fatalf("busy read %d: %q, %v", i, data, err)
		}
	}
	<-done
	if err := c.WaitData(); !errors.Is(err, ErrIdle) {
		t.Fatalf("idle again: %v, want ErrIdle", err)
	}
}

// TestReturnWhenIdleAgain: the goroutine that takes over after ErrIdle
// calls ReturnWhenIdle again; that must not re-arm the idle timer while
// nothing arrives (else every idle connection would hop each period).
func TestReturnWhenIdleAgain(t *testing.T) {
	ln := listen(t)
	c, cl := rawPair(t, ln, 0)
	c.ReturnWhenIdle(20 * time.Millisecond)
	if err := c.WaitData(); !errors.Is(err, ErrIdle) {
		t.Fatalf("first wait: %v, want ErrIdle", err)
	}
	c.ReturnWhenIdle(20 * time.Millisecond) // as the fresh goroutine does
	go func() {
		time.Sleep(150 * time.Millisecond)
		_, _ = cl.Write(clientFrame(true, 1, []byte("4late")))
	}()
	if err := c.WaitData(); err != nil {
		t.Fatalf("second wait: %v, want the data (no timer while idle)", err)
	}
	if _, data, err := c.Read(); err != nil || string(data) != "4late" {
		t.Fatalf("read %q, %v", data, err)
	}
}

// TestTryWriteAfterPastDeadline: a deadline left by a blocking write must
// not fail a later non-blocking one.
func TestTryWriteAfterPastDeadline(t *testing.T) {
	ln := listen(t)
	c, cl := rawPair(t, ln, 0)
	_ = c.SetWriteDeadline(time.Now().Add(-time.Second))
	p, err := c.TryWriteFrames([]Frame{{Type: Text, Head: []byte{'4'}, Body: []byte("x")}})
	if err != nil || p != nil {
		t.Fatalf("write: pending %v, %v", p != nil, err)
	}
	_ = cl.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [3]byte
	if _, err := io.ReadFull(cl, b[:]); err != nil || string(b[2:]) != "4" {
		t.Fatalf("read %q, %v", b, err)
	}
}
