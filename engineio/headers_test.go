package engineio

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The hooks set a cookie on the handshake and a header on every
// successful polling answer and websocket 101, as the reference's
// "initial_headers" and "headers" events do; error answers get neither.
func TestHeaderHooks(t *testing.T) {
	opts := Options{
		PingInterval: time.Hour,
		InitialHeaders: func(h http.Header, r *http.Request) {
			h.Add("Set-Cookie", "mycookie=456")
		},
		Headers: func(h http.Header, r *http.Request) {
			h.Set("X-Seen", r.Method+" "+r.URL.Query().Get("transport")+" "+r.Header.Get("X-Asked"))
		},
	}
	_, hs, _, _ := newServer(t, opts)
	c := hs.Client()
	do := func(method, query, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+"/?EIO=4&"+query, strings.NewReader(body))
		req.Header.Set("X-Asked", "yes")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	check := func(what string, h http.Header, seen, cookie string) {
		t.Helper()
		if got := h.Get("X-Seen"); got != seen {
			t.Errorf("%s: X-Seen %q, want %q", what, got, seen)
		}
		if got := h.Get("Set-Cookie"); got != cookie {
			t.Errorf("%s: Set-Cookie %q, want %q", what, got, cookie)
		}
	}

	res := do("GET", "transport=polling", "")
	check("polling handshake", res.Header, "GET polling yes", "mycookie=456")
	sid := handshake(t, hs)
	res = do("POST", "transport=polling&sid="+sid, "4hi")
	check("POST", res.Header, "POST polling yes", "")
	res = do("GET", "transport=polling&sid=nope", "")
	check("unknown sid", res.Header, "", "")

	wsURL := "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=4&transport=websocket"
	hdr := http.Header{"X-Asked": {"yes"}}
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL, hdr)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	check("websocket handshake", resp.Header, "GET websocket yes", "mycookie=456")
	ws, resp, err = websocket.DefaultDialer.Dial(wsURL+"&sid="+sid, hdr)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	check("websocket upgrade", resp.Header, "GET websocket yes", "")
}

// A later poll's answer runs Headers only.
func TestHeadersOnPoll(t *testing.T) {
	opts := Options{
		PingInterval:   time.Hour,
		InitialHeaders: func(h http.Header, r *http.Request) { h.Set("X-Initial", "1") },
		Headers:        func(h http.Header, r *http.Request) { h.Set("X-Every", "1") },
	}
	_, hs, sessions, _ := newServer(t, opts)
	sid := handshake(t, hs)
	s := <-sessions
	s.Close() // the next poll gets the close packet at once
	res, err := hs.Client().Get(hs.URL + "/?EIO=4&transport=polling&sid=" + sid)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Every") != "1" || res.Header.Get("X-Initial") != "" {
		t.Fatalf("poll headers %v", res.Header)
	}
}
