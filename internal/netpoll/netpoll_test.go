//go:build linux

package netpoll

import (
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(); _ = c.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// reader reads what the socket holds on each callback, without waiting,
// size bytes at a time at most, and records it.
type reader struct {
	rc   syscall.RawConn
	size int

	mu    sync.Mutex
	w     *Watch
	calls int
	got   []byte
	eof   bool
	err   error
	ch    chan struct{}
}

// start watches the reader's socket; the reader stops its watch itself at
// EOF or on an error, as a real owner does (the socket would otherwise
// stay readable and be reported on every round).
func (r *reader) start(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	w, err := Start(r.rc, r.onReadable)
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	t.Cleanup(w.Stop)
}

func newReader(t *testing.T, c *net.TCPConn, size int) *reader {
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return &reader{rc: rc, size: size, ch: make(chan struct{}, 1)}
}

func (r *reader) onReadable() {
	buf := make([]byte, r.size)
	var n int
	var rerr error
	_ = r.rc.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), buf)
		return true
	})
	r.mu.Lock()
	r.calls++
	switch {
	case n > 0:
		r.got = append(r.got, buf[:n]...)
	case rerr == nil:
		r.eof = true
		r.w.Stop()
	case rerr != syscall.EAGAIN:
		r.err = rerr
		r.w.Stop()
	}
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

func (r *reader) waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out; got %q, eof %v after %d calls", r.got, r.eof, r.calls)
		}
	}
}

func TestLevelTriggered(t *testing.T) {
	s, c := pair(t)
	r := newReader(t, s, 3) // fewer bytes than are sent: called again for the rest
	r.start(t)
	if _, err := c.Write([]byte("hello world")); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, func() bool { return string(r.got) == "hello world" })
}

// The last bytes and the FIN in one go: the EOF must still be seen after
// the bytes are read (an edge-triggered reader that skips the EAGAIN read
// would miss it).
func TestEOFWithLastBytes(t *testing.T) {
	s, c := pair(t)
	r := newReader(t, s, 64)
	r.start(t)
	if _, err := c.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, func() bool { return r.eof })
	if string(r.got) != "bye" {
		t.Fatalf("got %q", r.got)
	}
}

func TestStop(t *testing.T) {
	s, c := pair(t)
	r := newReader(t, s, 64)
	r.start(t)
	w := r.w
	if _, err := c.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, func() bool { return string(r.got) == "a" })
	w.Stop()
	w.Stop() // twice is fine
	r.mu.Lock()
	calls := r.calls
	r.mu.Unlock()
	if _, err := c.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	r.mu.Lock()
	if r.calls != calls {
		t.Fatalf("called %d more times after Stop", r.calls-calls)
	}
	r.mu.Unlock()

	// Watched again, the byte left in the socket is reported at once.
	r.start(t)
	r.waitFor(t, func() bool { return string(r.got) == "ab" })
}

func TestStopAfterClose(t *testing.T) {
	s, _ := pair(t)
	r := newReader(t, s, 64)
	r.start(t)
	_ = s.Close()
	r.w.Stop() // the descriptor is gone: nothing to remove, no panic
	if _, err := Start(r.rc, r.onReadable); err == nil {
		t.Fatal("Start on a closed connection succeeded")
	}
}

// Many sockets on few pollers: each one's bytes reach its own callback.
func TestManySockets(t *testing.T) {
	const n = 200
	readers := make([]*reader, n)
	clients := make([]*net.TCPConn, n)
	for i := range n {
		s, c := pair(t)
		readers[i], clients[i] = newReader(t, s, 64), c
		readers[i].start(t)
	}
	for round := range 3 {
		for i, c := range clients {
			if _, err := c.Write([]byte{byte(i), byte(round)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, r := range readers {
		r.waitFor(t, func() bool { return len(r.got) == 6 })
		for round := range 3 {
			if r.got[2*round] != byte(i) || r.got[2*round+1] != byte(round) {
				t.Fatalf("socket %d got %v", i, r.got)
			}
		}
	}
}

// A peer that resets the connection is reported too (the callback's read
// then fails).
func TestReset(t *testing.T) {
	s, c := pair(t)
	r := newReader(t, s, 64)
	r.start(t)
	_ = c.SetLinger(0)
	_ = c.Close()
	r.waitFor(t, func() bool { return r.err != nil || r.eof })
	if r.err != syscall.ECONNRESET {
		t.Fatalf("got error %v (eof %v), want ECONNRESET", r.err, r.eof)
	}
}

// A poller's goroutine runs only while it watches a socket, and comes back
// for the next one.
func TestGoroutineEndsWhenIdle(t *testing.T) {
	running := func(p *poller) bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.running
	}
	waitRunning := func(p *poller, want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for running(p) != want {
			if time.Now().After(deadline) {
				t.Fatalf("running = %v, want %v", !want, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for range 3 {
		s, c := pair(t)
		r := newReader(t, s, 64)
		r.start(t)
		p := r.w.p
		waitRunning(p, true)
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		r.waitFor(t, func() bool { return string(r.got) == "x" })
		r.w.Stop()
		waitRunning(p, false)
	}
}
