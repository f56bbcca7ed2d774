package wsconn

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestAcceptBatchHandshake checks the batch-mode handshake against the
// library's client: subprotocol choice and extra headers, and the library's
// statuses for each bad request.
func TestAcceptBatchHandshake(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, AcceptOptions{
			Subprotocols: []string{"b", "a"},
			Header:       http.Header{"Set-Cookie": {"io=abc; Path=/"}},
		})
		if err != nil {
			return
		}
		defer c.Close(CloseNormal, "")
		typ, data, err := c.Read()
		if err != nil {
			return
		}
		_ = c.Write(typ, []byte(c.Subprotocol()+":"), data, false)
		_, _, _ = c.Read()
	}))
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	d := websocket.Dialer{Subprotocols: []string{"a", "b"}}
	ws, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if got := resp.Header.Get("Set-Cookie"); got != "io=abc; Path=/" {
		t.Fatalf("Set-Cookie %q", got)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "b:hi" {
		t.Fatalf("echo %q, %v (want the server's preferred subprotocol b)", data, err)
	}

	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		status int
	}{
		{"no upgrade", "GET", map[string]string{"Connection": "keep-alive"}, 400},
		{"not GET", "POST", nil, 405},
		{"version 12", "GET", map[string]string{"Sec-WebSocket-Version": "12"}, 400},
		{"short key", "GET", map[string]string{"Sec-WebSocket-Key": "c2hvcnQ="}, 400},
	} {
		req, _ := http.NewRequest(tc.method, hs.URL, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
}

// TestAcceptGreeting checks that the greeting is the first message the
// client reads, with and without batch mode (compression takes the
// library's path).
func TestAcceptGreeting(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    AcceptOptions
		deflate bool
	}{
		{"batch", AcceptOptions{}, false},
		{"batch, long greeting", AcceptOptions{}, false},
		{"deflate", AcceptOptions{Compression: true}, true},
	} {
		greeting := []byte(`0{"sid":"x"}`)
		if strings.Contains(tc.name, "long") {
			greeting = []byte(strings.Repeat("g", 70000)) // a 64-bit length
		}
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			opts := tc.opts
			opts.Greeting = greeting
			c, err := Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.Close(CloseNormal, "")
			_ = c.Write(Text, []byte("second"), nil, false)
			_, _, _ = c.Read()
		}))
		d := websocket.Dialer{EnableCompression: tc.deflate}
		ws, resp, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := resp.Header.Get("Sec-Websocket-Extensions") != ""; got != tc.deflate {
			t.Fatalf("%s: deflate negotiated %v", tc.name, got)
		}
		for _, want := range []string{string(greeting), "second"} {
			typ, data, err := ws.ReadMessage()
			if err != nil || typ != websocket.TextMessage || string(data) != want {
				t.Fatalf("%s: read type %d, %d bytes (%.20q), %v; want %.20q", tc.name, typ, len(data), data, err, want)
			}
		}
		ws.Close()
		hs.Close()
	}
}
