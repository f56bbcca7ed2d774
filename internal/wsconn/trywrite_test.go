package wsconn

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestTryWriteFramesPartial fills the socket of a peer that does not read
// until a non-blocking write is left partial, finishes it on another
// goroutine once the peer reads, and checks that every message arrives
// whole and in order, and that a pong can follow (the lock was released);
// with compression too, where the frames are compressed under the lock.
func TestTryWriteFramesPartial(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) { testTryWriteFramesPartial(t, compress) })
	}
}

func testTryWriteFramesPartial(t *testing.T, compress bool) {
	type result struct {
		sent    int
		partial bool
		err     error
	}
	res := make(chan result, 1)
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, AcceptOptions{Compression: compress})
		if err != nil {
			res <- result{err: err}
			return
		}
		if c.Compressed() != compress {
			res <- result{err: fmt.Errorf("compression %v not negotiated", compress)}
			return
		}
		if !c.CanTryWrite() {
			res <- result{err: ErrCannotTry}
			return
		}
		body := []byte(strings.Repeat("y", 3000)) // above copyLimit: its own iovec
		if compress {
			// Compressing is slow under the race detector: a small socket
			// buffer fills sooner.
			if tc, ok := c.nc.(*net.TCPConn); ok {
				_ = tc.SetWriteBuffer(8 << 10)
			}
			// Incompressible, so that the socket fills.
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range body {
				body[i] = 'a' + byte(rng.IntN(26))
			}
		}
		sent := 0
		for sent < 10000 {
			head := []byte(fmt.Sprintf("%06d", sent))
			p, err := c.TryWriteFrames([]Frame{{Type: Text, Head: head, Body: body}, {Type: Binary, Head: head}})
			sent += 2
			if err != nil {
				res <- result{sent, false, err}
				return
			}
			if p != nil {
				res <- result{sent, true, nil}
				<-release
				if err := p.Finish(time.Now().Add(5 * time.Second)); err != nil {
					t.Errorf("finish: %v", err)
				}
				break
			}
		}
		for {
			if _, _, err := c.Read(); err != nil {
				return
			}
		}
	}))
	defer hs.Close()
	d := websocket.Dialer{EnableCompression: compress}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var r result
	select {
	case r = <-res:
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
	}
	if r.err == ErrCannotTry {
		t.Skip("no non-blocking writes on this platform")
	}
	if r.err != nil || !r.partial {
		t.Fatalf("sent %d messages, partial %v, err %v: the peer's buffer never filled", r.sent, r.partial, r.err)
	}
	close(release)
	for i := 0; i < r.sent; i++ {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, data, err := ws.ReadMessage()
		want := fmt.Sprintf("%06d", i/2*2)
		if err != nil || !bytes.HasPrefix(data, []byte(want)) || (typ == websocket.BinaryMessage) != (i%2 == 1) {
			t.Fatalf("message %d of %d: type %d, %.10q, %v", i, r.sent, typ, data, err)
		}
		if i%2 == 0 && len(data) != 3006 {
			t.Fatalf("message %d: %d bytes", i, len(data))
		}
	}
	pong := make(chan struct{}, 1)
	ws.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	_ = ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second))
	go func() { _, _, _ = ws.ReadMessage() }()
	select {
	case <-pong:
	case <-time.After(5 * time.Second):
		t.Fatal("no pong after the pending write was finished")
	}
}
