package sockio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type userKey struct{}

// TestSocketContext: a socket's context carries what an HTTP middleware
// put in the request's context, and ends when the socket disconnects,
// with the reason as its cause.
func TestSocketContext(t *testing.T) {
	io := NewServer(Options{})
	withUser := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, "ann")))
	})
	hs := httptest.NewServer(withUser)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
	})
	sockets := make(chan *Socket, 1)
	users := make(chan any, 1)
	io.Of("/").Use(func(s *Socket) error {
		users <- s.Context().Value(userKey{}) // already in the middlewares
		return nil
	})
	io.OnConnection(func(s *Socket) { sockets <- s })

	c := dial(t, hs)
	connectAnswer(t, c.connect("/"))
	if u := <-users; u != "ann" {
		t.Fatalf("the middleware's value in the socket's context: %v", u)
	}
	s := <-sockets
	ctx := s.Context()
	if ctx.Err() != nil {
		t.Fatalf("context of a connected socket: %v", ctx.Err())
	}
	c.send("41") // the client leaves the namespace
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("context not canceled by the disconnect")
	}
	cause := context.Cause(ctx)
	if !errors.Is(cause, ErrDisconnected) || !strings.Contains(cause.Error(), ReasonClientNamespaceDisconnect) {
		t.Fatalf("cause %v", cause)
	}
	// Asked for the first time after the end: canceled at once.
	if late := s.Context(); late.Err() == nil {
		t.Fatal("a gone socket's context is live")
	}
}

// TestRefusedSocketContext: a socket refused by a middleware never
// connects, and its context ends all the same.
func TestRefusedSocketContext(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	ctxs := make(chan context.Context, 1)
	io.Of("/").Use(func(s *Socket) error {
		ctxs <- s.Context()
		return errors.New("no")
	})
	c := dial(t, hs)
	if got := c.connect("/"); !strings.HasPrefix(got, "44") {
		t.Fatalf("CONNECT answer %q, want a CONNECT_ERROR", got)
	}
	select {
	case <-(<-ctxs).Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the refused socket's context is live")
	}
}

// TestAckTimeoutOption: Options.AckTimeout bounds the acknowledgements of
// emits that set no Timeout, for one socket and for a broadcast.
func TestAckTimeoutOption(t *testing.T) {
	io, hs := newTestServer(t, Options{AckTimeout: 50 * time.Millisecond})
	sockets := make(chan *Socket, 1)
	io.OnConnection(func(s *Socket) { sockets <- s })
	c := dial(t, hs)
	connectAnswer(t, c.connect("/"))
	s := <-sockets

	got := make(chan error, 1)
	if err := s.Emit("q", func(err error, _ Args) { got <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, ErrTimeout) {
		t.Fatalf("callback: %v, want ErrTimeout", err)
	}
	if _, err := s.EmitWithAck(context.Background(), "q"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("EmitWithAck: %v, want ErrTimeout", err)
	}
	// A broadcast with acknowledgements needs no Timeout of its own now.
	if _, err := io.EmitWithAck(context.Background(), "q"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("broadcast EmitWithAck: %v, want ErrTimeout", err)
	}
	// A Timeout of the emit still wins.
	start := time.Now()
	if _, err := s.Timeout(time.Hour).EmitWithAck(ctxTimeout(t, 300*time.Millisecond), "q"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with its own Timeout: %v after %v, want the context's deadline", err, time.Since(start))
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestServerSideEmitWithAck: on one node there is nobody to answer.
func TestServerSideEmitWithAck(t *testing.T) {
	io, _ := newTestServer(t, Options{})
	res, err := io.ServerSideEmitWithAck(context.Background(), "hello", 1)
	if err != nil || len(res) != 0 {
		t.Fatalf("ServerSideEmitWithAck alone: %v, %v", res, err)
	}
}
