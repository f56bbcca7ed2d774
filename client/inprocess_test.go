package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
)

// Tests against sockio in-process (httptest on 127.0.0.1), for what the
// contract server cannot show, and tests with no server at all.

func newSockioServer(t *testing.T, setup func(io *sockio.Server)) *httptest.Server {
	t.Helper()
	io := sockio.NewServer(sockio.Options{})
	setup(io)
	srv := httptest.NewServer(io)
	t.Cleanup(func() {
		// Short: a session the server keeps after its client left (see
		// docs/client.md) would hold Close for its ping timeout.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Close(ctx)
		srv.Close()
	})
	return srv
}

func TestHeadersAndQuery(t *testing.T) {
	srv := newSockioServer(t, func(io *sockio.Server) {
		io.OnConnection(func(s *sockio.Socket) {
			s.On("info", func(ack sockio.Ack) {
				hs := s.Handshake()
				ack(hs.Headers.Get("X-Client"), hs.Query.Get("q"), hs.Query.Get("u"))
			})
		})
	})
	for _, ts := range transportSets {
		t.Run(tname(ts), func(t *testing.T) {
			leaks := leakCheck(t)
			ctx := timeout(t, 10*time.Second)
			s, err := client.Connect(ctx, srv.URL+"/?u=url", client.Options{
				Transports: ts,
				Header:     http.Header{"X-Client": {"go"}},
				Query:      url.Values{"q": {"opt"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.EmitWithAck(ctx, "info")
			if err != nil {
				t.Fatal(err)
			}
			if got := res.String(); got != `["go","opt","url"]` {
				t.Errorf("server saw %s", got)
			}
			_ = s.Close()
			leaks()
		})
	}
}

// A closed port: every connection attempt fails at once.
func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/"
}

func TestOfflineBuffer(t *testing.T) {
	leaks := leakCheck(t)
	s, err := client.New(deadURL(t), client.Options{MaxBufferedEmits: 3})
	if err != nil {
		t.Fatal(err)
	}
	acks := make(chan error, 3)
	for i := range 3 {
		if err := s.Emit("e", i, func(err error) { acks <- err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Emit("e", 3); !errors.Is(err, client.ErrBufferFull) {
		t.Fatalf("4th offline emit: %v, want ErrBufferFull", err)
	}
	if err := s.Volatile().Emit("e", 4); err != nil { // dropped, not an error
		t.Fatal(err)
	}
	_ = s.Close()
	for range 3 {
		if err := <-acks; !errors.Is(err, client.ErrClosed) {
			t.Errorf("ack of a dropped buffered emit: %v, want ErrClosed", err)
		}
	}
	if err := s.Emit("e"); !errors.Is(err, client.ErrClosed) {
		t.Errorf("emit after Close: %v", err)
	}
	leaks()
}

func TestConnectFailure(t *testing.T) {
	t.Run("no reconnection", func(t *testing.T) {
		leaks := leakCheck(t)
		rec := newRecorder()
		s, err := client.New(deadURL(t), client.Options{DisableReconnection: true})
		if err != nil {
			t.Fatal(err)
		}
		s.On("connect_error", func(err error) { rec.add("connect_error") })
		if err := s.Connect(timeout(t, 10*time.Second)); err == nil {
			t.Fatal("connected to a closed port")
		}
		rec.expect(t, time.Second, "connect_error")
		_ = s.Close()
		leaks()
	})
	t.Run("context", func(t *testing.T) {
		leaks := leakCheck(t)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := client.Connect(ctx, deadURL(t), client.Options{ReconnectionDelay: 50 * time.Millisecond})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want the context's", err)
		}
		leaks()
	})
	t.Run("not a socket.io server", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		leaks := leakCheck(t)
		for _, ts := range [][]string{{"polling"}, {"websocket"}} {
			_, err := client.Connect(timeout(t, 10*time.Second), srv.URL, client.Options{Transports: ts, DisableReconnection: true})
			var he *client.HandshakeError
			if !errors.As(err, &he) || he.Status != http.StatusNotFound {
				t.Errorf("%v: error %v, want a HandshakeError 404", ts, err)
			}
		}
		srv.CloseClientConnections()
		leaks()
	})
	t.Run("bad URL", func(t *testing.T) {
		for _, u := range []string{"ftp://x", "http://", "localhost:3000", "://"} {
			if _, err := client.New(u, client.Options{}); err == nil {
				t.Errorf("New(%q) accepted it", u)
			}
		}
	})
}

// TestCloseAnytime closes while connecting, upgrading, from a handler, and
// twice: never a leak, never a hang.
func TestCloseAnytime(t *testing.T) {
	release := make(chan struct{})
	srv := newSockioServer(t, func(io *sockio.Server) {
		io.Of("/slow").Use(func(*sockio.Socket) error { <-release; return nil })
		io.OnConnection(func(s *sockio.Socket) {
			s.On("close-me", func() {})
			_ = s.Emit("hello")
		})
	})
	leaks := leakCheck(t)
	for i := range 20 {
		s, err := client.New(srv.URL+"/", client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Open()
		if i%2 == 0 {
			time.Sleep(time.Duration(i) * time.Millisecond) // somewhere in the handshake or the upgrade
		}
		_ = s.Close()
		_ = s.Close()
	}
	// Close while the server holds the CONNECT answer.
	s, _ := client.New(srv.URL+"/slow", client.Options{})
	_ = s.Open()
	time.Sleep(50 * time.Millisecond)
	_ = s.Close()
	close(release) // the server's middleware goroutine may end now
	// Close from a handler.
	done := make(chan struct{})
	s, _ = client.New(srv.URL+"/", client.Options{})
	s.On("hello", func() { _ = s.Close(); close(done) })
	if err := s.Connect(timeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	<-done
	leaks()
}

// TestConcurrentEmits emits from many goroutines while the connection
// comes and goes (run with -race).
func TestConcurrentEmits(t *testing.T) {
	var mu sync.Mutex
	got := 0
	srv := newSockioServer(t, func(io *sockio.Server) {
		io.OnConnection(func(s *sockio.Socket) {
			s.On("n", func(e *sockio.Event) { mu.Lock(); got++; mu.Unlock(); _ = e.Ack() })
			s.On("drop", func() { s.Client().Conn().Close() }) // the connection only: the client reconnects
		})
	})
	leaks := leakCheck(t)
	ctx := timeout(t, 20*time.Second)
	s, err := client.Connect(ctx, srv.URL, client.Options{ReconnectionDelay: 20 * time.Millisecond, ReconnectionDelayMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if g == 0 && i%10 == 0 {
					_ = s.Emit("drop")
				}
				_, _ = s.Timeout(5*time.Second).EmitWithAck(ctx, "n", i)
			}
		}()
	}
	wg.Wait()
	_ = s.Close()
	leaks()
	mu.Lock()
	defer mu.Unlock()
	if got == 0 {
		t.Error("no emit arrived")
	}
}

// TestHandlerOrder floods the socket with more events than its queue
// holds while the first handler is slow: the reader waits (pushing back on
// the server) and all arrive, in order. A handler may wait in EmitWithAck:
// acks skip the queue. (Not behind a full queue, though: an ack that comes
// after more than 256 pending events waits for them, see docs/client.md.)
func TestHandlerOrder(t *testing.T) {
	const n = 1000
	srv := newSockioServer(t, func(io *sockio.Server) {
		io.OnConnection(func(s *sockio.Socket) {
			s.On("flood", func() {
				for i := range n {
					_ = s.Emit("seq", i)
				}
			})
			s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
		})
	})
	leaks := leakCheck(t)
	ctx := timeout(t, 20*time.Second)
	s, err := client.New(srv.URL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	done := make(chan error, 1)
	s.On("seq", func(i int) {
		if i != next {
			done <- errors.New("out of order")
			return
		}
		next++
		switch i {
		case 0:
			time.Sleep(200 * time.Millisecond) // the flood backs up meanwhile
		case n - 1:
			_, err := s.EmitWithAck(ctx, "echo", "inside a handler")
			done <- err
		}
	})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Emit("flood"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after %d events: %v", next, err)
		}
	case <-ctx.Done():
		t.Fatalf("only %d of %d events", next, n)
	}
	_ = s.Close()
	leaks()
}

// TestMaxPayload: over polling, the client splits its POSTs to stay
// within the maxPayload the server announced (a larger one is refused).
func TestMaxPayload(t *testing.T) {
	var mu sync.Mutex
	var got []int
	io := sockio.NewServer(sockio.Options{MaxHTTPBufferSize: 300, Transports: []string{"polling"}})
	io.OnConnection(func(s *sockio.Socket) {
		s.On("n", func(i int) { mu.Lock(); got = append(got, i); mu.Unlock() })
		s.On("sync", func(ack sockio.Ack) { ack() })
	})
	srv := httptest.NewServer(io)
	defer srv.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Close(ctx)
	}()
	ctx := timeout(t, 10*time.Second)
	s, err := client.Connect(ctx, srv.URL, client.Options{Transports: []string{"polling"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pad := strings.Repeat("x", 60)
	for i := range 50 {
		if err := s.Emit("n", i, pad); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.EmitWithAck(ctx, "sync"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 50 || got[49] != 49 {
		t.Errorf("server got %d events: %v", len(got), got)
	}
}
