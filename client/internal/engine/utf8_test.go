package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio/internal/wsconn"
)

const openPacket = `0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`

// TestReceiveInvalidUTF8 is a server that sends text that is not UTF-8.
// Over polling the client reads the body as UTF-8 text, as a browser does
// (U+FFFD for each ill-formed sequence); over websocket it closes with
// 1007 and reports a "transport error", as the reference client on Node's
// ws does. Either way no invalid UTF-8 reaches the handler.
func TestReceiveInvalidUTF8(t *testing.T) {
	t.Run("polling", func(t *testing.T) {
		done := make(chan struct{})
		defer close(done)
		var polls atomic.Int32
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				_, _ = w.Write([]byte("ok"))
				return
			}
			switch polls.Add(1) {
			case 1:
				_, _ = w.Write([]byte(openPacket))
			case 2:
				_, _ = w.Write([]byte("4a\xffb\xe2\x82"))
			default:
				select { // nothing more to say
				case <-r.Context().Done():
				case <-done:
				}
			}
		}))
		defer hs.Close()
		got := make(chan string, 1)
		c := dialTest(t, hs.URL, Polling, Handler{
			OnMessage: func(_ context.Context, data []byte, _ bool) { got <- string(data) },
		})
		defer c.Close()
		select {
		case m := <-got:
			if m != "a\ufffdb\ufffd" {
				t.Fatalf("message %+q, want %+q", m, "a\ufffdb\ufffd")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no message")
		}
	})

	t.Run("websocket", func(t *testing.T) {
		peer := make(chan error, 1)
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			up := websocket.Upgrader{}
			ws, err := up.Upgrade(w, r, nil)
			if err != nil {
				peer <- err
				return
			}
			defer ws.Close()
			_ = ws.WriteMessage(websocket.TextMessage, []byte(openPacket))
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4a\xffb"))
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					peer <- err
					return
				}
			}
		}))
		defer hs.Close()
		closed := make(chan error, 1)
		var reason string
		c := dialTest(t, hs.URL, WebSocket, Handler{
			OnMessage: func(_ context.Context, data []byte, _ bool) { t.Errorf("message %q delivered", data) },
			OnClose:   func(r string, err error) { reason = r; closed <- err },
		})
		defer c.Close()
		select {
		case err := <-closed:
			if reason != ReasonTransportError || !errors.Is(err, wsconn.ErrInvalidUTF8) {
				t.Fatalf("closed with %q, %v; want %q, ErrInvalidUTF8", reason, err, ReasonTransportError)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("not closed")
		}
		if err := <-peer; !websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
			t.Fatalf("server read %v, want close 1007", err)
		}
	})
}

func dialTest(t *testing.T, base, transport string, h Handler) *Conn {
	t.Helper()
	u, _ := url.Parse(base + "/engine.io/")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, Options{URL: u, Transports: []string{transport}}, h)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	return c
}
