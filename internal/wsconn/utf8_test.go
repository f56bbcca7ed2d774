package wsconn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// invalidText is a text message that is not UTF-8 (a lone 0xff, a cut
// 3-byte sequence), long enough to be compressed.
var invalidText = []byte("4" + strings.Repeat("x", 200) + "\xff\xe2\x82")

// TestReadInvalidUTF8EveryPath checks that a text message that is not
// UTF-8 fails Read with ErrInvalidUTF8 and close 1007 on every way a
// server connection reads: its own frame reader (batch mode) and the
// library's (permessage-deflate, where gorilla does not check UTF-8), as
// the reference's ws library does.
func TestReadInvalidUTF8EveryPath(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compress bool // client and server negotiate permessage-deflate
	}{
		{"frame reader", false},
		{"permessage-deflate", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := Accept(w, r, AcceptOptions{Compression: tc.compress, ReadLimit: 1 << 20})
				if err != nil {
					got <- err
					return
				}
				defer c.CloseNow()
				if tc.compress != c.Compressed() {
					got <- errors.New("compression not negotiated as expected")
					return
				}
				_, _, err = c.Read()
				got <- err
			}))
			defer srv.Close()

			d := websocket.Dialer{EnableCompression: tc.compress}
			ws, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			ws.EnableWriteCompression(tc.compress)
			if err := ws.WriteMessage(websocket.TextMessage, invalidText); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-got:
				if !errors.Is(err, ErrInvalidUTF8) {
					t.Fatalf("Read: %v, want ErrInvalidUTF8", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Read did not return")
			}
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err = ws.ReadMessage()
			if !websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
				t.Fatalf("client read %v, want close 1007", err)
			}
		})
	}
}

// TestDialReadInvalidUTF8 is the client side (the Go client's websocket
// transport): a server that sends a text message that is not UTF-8 gets
// close 1007, as a browser or Node's ws would answer, and Read fails with
// ErrInvalidUTF8 rather than hand the bytes on.
func TestDialReadInvalidUTF8(t *testing.T) {
	peer := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := websocket.Upgrader{}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			peer <- err
			return
		}
		defer ws.Close()
		if err := ws.WriteMessage(websocket.TextMessage, invalidText); err != nil {
			peer <- err
			return
		}
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err = ws.ReadMessage()
		peer <- err
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.Read(); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("Read: %v, want ErrInvalidUTF8", err)
	}
	if err := <-peer; !websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
		t.Fatalf("server read %v, want close 1007", err)
	}
}
