package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/engineio/packet"
)

// echoHandler sends every message back on the sockio Engine.IO server.
type echoHandler struct{ s *engineio.Session }

func (h echoHandler) OnMessage(data []byte, binary bool) {
	_ = h.s.Send(engineio.SendOptions{}, packet.Packet{Type: packet.Message, Data: bytes.Clone(data), Binary: binary})
}

func (echoHandler) OnClose(string, error) {}

func newEchoServer(t *testing.T, opts engineio.Options) *url.URL {
	srv := engineio.NewServer(opts)
	srv.OnConnection(func(s *engineio.Session) { s.SetHandler(echoHandler{s}) })
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Close(ctx, "")
		hs.Close()
	})
	u, _ := url.Parse(hs.URL + "/engine.io/")
	return u
}

type msg struct {
	data   string
	binary bool
}

func TestEcho(t *testing.T) {
	u := newEchoServer(t, engineio.Options{})
	for _, ts := range [][]string{{Polling}, {WebSocket}, {Polling, WebSocket}} {
		base := runtime.NumGoroutine()
		got := make(chan msg, 10)
		upgraded := make(chan string, 1)
		closed := make(chan string, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		tr := &http.Transport{}
		c, err := Dial(ctx, Options{URL: u, Transports: ts, HTTPClient: &http.Client{Transport: tr}}, Handler{
			OnMessage: func(_ context.Context, data []byte, binary bool) { got <- msg{string(data), binary} },
			OnUpgrade: func(tr string) { upgraded <- tr },
			OnClose:   func(reason string, err error) { closed <- reason + fmt.Sprint(" ", err) },
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Start()
		if len(ts) == 2 {
			if tr := <-upgraded; tr != WebSocket || c.Transport() != WebSocket {
				t.Fatalf("upgrade to %q, transport %q", tr, c.Transport())
			}
		}
		for _, m := range []msg{{"hello", false}, {"\x00\x01\xff", true}, {"", false}} {
			if err := c.Send(true, packet.Packet{Type: packet.Message, Data: []byte(m.data), Binary: m.binary}); err != nil {
				t.Fatal(err)
			}
			select {
			case g := <-got:
				if g != m {
					t.Errorf("%v: echo %+v, want %+v", ts, g, m)
				}
			case <-ctx.Done():
				t.Fatalf("%v: no echo", ts)
			}
		}
		c.Close()
		if r := <-closed; r != ReasonForcedClose+" <nil>" {
			t.Errorf("%v: close reason %q", ts, r)
		}
		if err := c.Send(false, packet.Packet{Type: packet.Message}); !errors.Is(err, ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
		cancel()
		tr.CloseIdleConnections() // keep-alive connections have goroutines of their own
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			t.Errorf("%v: %d goroutines after Close, %d before", ts, n, base)
		}
	}
}

func TestQueueBound(t *testing.T) {
	u := newEchoServer(t, engineio.Options{})
	c, err := Dial(context.Background(), Options{URL: u, Transports: []string{WebSocket}, MaxBufferedPackets: 2}, Handler{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Not started: nothing drains the queue.
	for range 2 {
		if err := c.Send(false, packet.Packet{Type: packet.Message, Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Send(false, packet.Packet{Type: packet.Message}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third Send: %v, want ErrQueueFull", err)
	}
	if c.Writable() {
		t.Error("writable with a full queue")
	}
}

func TestOptionErrors(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1/engine.io/")
	for _, o := range []Options{
		{},
		{URL: &url.URL{Scheme: "ftp", Host: "x"}},
		{URL: u, Transports: []string{"carrier pigeon"}},
	} {
		if _, err := Dial(context.Background(), o, Handler{}); err == nil {
			t.Errorf("Dial(%+v) accepted it", o)
		}
	}
}
