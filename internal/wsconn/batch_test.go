package wsconn

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestWriteFramesBatch writes frames of every header size in one batch and
// checks that a standard client reads them back intact, and that pings and
// closes are answered in batch mode.
func TestWriteFramesBatch(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 2048, 2049, 65535, 65536, 70000}
	done := make(chan error, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, AcceptOptions{})
		if err != nil {
			done <- err
			return
		}
		var frames []Frame
		for i, n := range sizes {
			typ := Text
			if i%2 == 1 {
				typ = Binary
			}
			frames = append(frames, Frame{Type: typ, Head: []byte{'4'}, Body: []byte(strings.Repeat("x", n))})
		}
		done <- c.WriteFrames(frames, time.Now().Add(5*time.Second))
		for {
			if _, _, err := c.Read(); err != nil {
				return
			}
		}
	}))
	defer hs.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, data, err := ws.ReadMessage()
		if err != nil || len(data) != n+1 || data[0] != '4' || (typ == websocket.BinaryMessage) != (i%2 == 1) {
			t.Fatalf("frame %d: type %d, %d bytes, %v", i, typ, len(data), err)
		}
	}
	pong := make(chan string, 1)
	ws.SetPongHandler(func(s string) error { pong <- s; return nil })
	_ = ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second))
	go func() { _, _, _ = ws.ReadMessage() }() // pongs are handled while reading
	select {
	case got := <-pong:
		if got != "hi" {
			t.Fatalf("pong %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong in batch mode")
	}
}
