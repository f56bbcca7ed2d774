package engine

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/engineio/packet"
)

// TestWebSocketHTTPClientSettings checks that the WebSocket handshake goes
// the way of the HTTP client: over TLS with its TLS settings, carrying the
// Jar's cookies (the polling handshake's session cookie reaches the
// upgrade request) and storing the cookie a WebSocket handshake sets.
func TestWebSocketHTTPClientSettings(t *testing.T) {
	wsCookies := make(chan string, 4)
	srv := engineio.NewServer(engineio.Options{
		Cookie: &engineio.Cookie{Name: "io"},
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("transport") == WebSocket {
				c, err := r.Cookie("io")
				v := ""
				if err == nil {
					v = c.Value
				}
				wsCookies <- r.URL.Query().Get("sid") + "|" + v
			}
			return nil
		},
	})
	srv.OnConnection(func(s *engineio.Session) { s.SetHandler(echoHandler{s}) })
	hs := httptest.NewTLSServer(srv)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Close(ctx, "")
		hs.Close()
	}()
	u, _ := url.Parse(hs.URL + "/engine.io/")
	jar, _ := cookiejar.New(nil)
	hc := hs.Client() // its *http.Transport trusts the test certificate
	hc.Jar = jar

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(transports ...string) (*Conn, chan string, chan string) {
		got := make(chan string, 4)
		upgraded := make(chan string, 1)
		c, err := Dial(ctx, Options{URL: u, Transports: transports, HTTPClient: hc}, Handler{
			OnMessage: func(_ context.Context, data []byte, _ bool) { got <- string(data) },
			OnUpgrade: func(tr string) { upgraded <- tr },
		})
		if err != nil {
			t.Fatalf("%v: %v", transports, err)
		}
		c.Start()
		return c, got, upgraded
	}
	recv := func(ch chan string, what string) string {
		select {
		case v := <-ch:
			return v
		case <-ctx.Done():
			t.Fatalf("no %s", what)
			return ""
		}
	}

	// Polling then upgrade: the upgrade request presents the cookie the
	// polling handshake set.
	c, got, upgraded := dial(Polling, WebSocket)
	if v := recv(wsCookies, "upgrade request"); v != c.ID()+"|"+c.ID() {
		t.Errorf("upgrade request: sid|cookie %q, want the session id twice", v)
	}
	recv(upgraded, "upgrade")
	if err := c.Send(false, packet.Packet{Type: packet.Message, Data: []byte("over wss")}); err != nil {
		t.Fatal(err)
	}
	if v := recv(got, "echo"); v != "over wss" {
		t.Errorf("echo %q", v)
	}
	c.Close()

	// WebSocket only: the handshake presents the previous session's cookie
	// and the jar keeps the new one from the 101 response.
	c, got, _ = dial(WebSocket)
	defer c.Close()
	prev := recv(wsCookies, "websocket handshake")
	if err := c.Send(false, packet.Packet{Type: packet.Message, Data: []byte("ws only")}); err != nil {
		t.Fatal(err)
	}
	if v := recv(got, "echo"); v != "ws only" {
		t.Errorf("echo %q", v)
	}
	if prev == "|" || prev[0] != '|' {
		t.Errorf("websocket handshake: sid|cookie %q, want no sid and the previous session's cookie", prev)
	}
	cookies := jar.Cookies(u)
	if len(cookies) != 1 || cookies[0].Value != c.ID() {
		t.Errorf("jar holds %v, want io=%s from the WebSocket handshake", cookies, c.ID())
	}
}
