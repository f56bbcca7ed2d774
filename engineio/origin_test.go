package engineio

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// newQuietServer is newServer for tests that open sessions they never
// look at: nothing waits to be read, however many there are.
func newQuietServer(t *testing.T, opts Options) *httptest.Server {
	srv := NewServer(opts)
	srv.OnConnection(func(s *Session) { s.SetHandler(newRecorder()) })
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Close(ctx, "")
		hs.Close()
	})
	return hs
}

// boundedClient keeps a test that fails from hanging on a long poll.
var boundedClient = &http.Client{Timeout: 5 * time.Second}

// request sends method to url with an Origin (none when empty) and body,
// and returns the answer and its body.
func request(t *testing.T, method, url, origin, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := boundedClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// dialWS opens a websocket to url with an Origin (none when empty) and
// returns the status and body of a refusal, or 101.
func dialWS(t *testing.T, url, origin string) (int, string) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, res, err := d.Dial("ws"+strings.TrimPrefix(url, "http"), h)
	if err == nil {
		ws.Close()
		return res.StatusCode, ""
	}
	if res == nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

const forbidden = `{"code":4,"message":"Forbidden"}`

// With AllowedOrigins, a browser request from another origin is refused
// with 403 code 4 on every path into a session: handshake, polling GET and
// POST, direct websocket and upgrade. The listed origins, the server's own
// and requests without an Origin (non-browser clients) are served; "null"
// only when listed.
func TestAllowedOrigins(t *testing.T) {
	hs := newQuietServer(t, Options{PingInterval: time.Hour, AllowedOrigins: []string{"https://app.example", "*.trusted.example"}})
	self := "http://" + strings.TrimPrefix(hs.URL, "http://")
	eio := hs.URL + "/?EIO=4&transport=polling"
	allowed := []string{"", "https://app.example", "HTTPS://APP.EXAMPLE", "https://a.trusted.example", "http://a.b.trusted.example", self}
	refused := []string{"https://evil.example", "null", "http://app.example", "https://trusted.example", "https://app.example.evil", "https://app.example/x", "file://", "garbage"}

	t.Run("handshake", func(t *testing.T) {
		for _, o := range allowed {
			if res, body := request(t, "GET", eio, o, ""); res.StatusCode != 200 || !strings.HasPrefix(body, "0{") {
				t.Errorf("Origin %q: %d %s", o, res.StatusCode, body)
			}
		}
		for _, o := range refused {
			if res, body := request(t, "GET", eio, o, ""); res.StatusCode != 403 || body != forbidden {
				t.Errorf("Origin %q: %d %s", o, res.StatusCode, body)
			}
		}
	})
	t.Run("polling", func(t *testing.T) {
		sid := handshake(t, hs)
		url := eio + "&sid=" + sid
		for _, o := range refused {
			if res, body := request(t, "POST", url, o, "4x"); res.StatusCode != 403 || body != forbidden {
				t.Errorf("POST, Origin %q: %d %s", o, res.StatusCode, body)
			}
			if res, body := request(t, "GET", url, o, ""); res.StatusCode != 403 || body != forbidden {
				t.Errorf("GET, Origin %q: %d %s", o, res.StatusCode, body)
			}
		}
		// The session was not touched: it still serves its own pages.
		if res, body := request(t, "POST", url, "https://app.example", "4x"); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("POST: %d %s", res.StatusCode, body)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		url := hs.URL + "/?EIO=4&transport=websocket"
		for _, o := range []string{"", "https://app.example", self} {
			if code, body := dialWS(t, url, o); code != 101 {
				t.Errorf("Origin %q: %d %s", o, code, body)
			}
		}
		for _, o := range refused {
			if code, body := dialWS(t, url, o); code != 403 || body != "Forbidden" {
				t.Errorf("Origin %q: %d %s", o, code, body)
			}
		}
	})
	t.Run("upgrade", func(t *testing.T) {
		sid := handshake(t, hs)
		url := hs.URL + "/?EIO=4&transport=websocket&sid=" + sid
		for _, o := range []string{"https://evil.example", "null"} {
			if code, body := dialWS(t, url, o); code != 403 || body != "Forbidden" {
				t.Errorf("Origin %q: %d %s", o, code, body)
			}
		}
		if code, body := dialWS(t, url, "https://app.example"); code != 101 {
			t.Errorf("allowed origin: %d %s", code, body)
		}
	})
	t.Run("cors", func(t *testing.T) {
		// CORS is nil: AllowedOrigins answers it, with credentials.
		res, _ := request(t, "OPTIONS", eio, "https://a.trusted.example", "")
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://a.trusted.example" ||
			res.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
		}
		res, _ = request(t, "OPTIONS", eio, "https://evil.example", "")
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from a refused origin: %v", res.Header)
		}
		res, _ = request(t, "GET", eio, "https://app.example", "")
		if res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(res.Header.Get("Vary"), "Origin") {
			t.Errorf("handshake: %v", res.Header)
		}
	})
}

// "null" and "*" are entries like the others; SameOrigin alone allows the
// server's own pages only; the zero value allows every origin, as the
// reference does.
func TestAllowedOriginsSpecialEntries(t *testing.T) {
	for _, tc := range []struct {
		list             []string
		allowed, refused []string
	}{
		{nil, []string{"null", "https://evil.example"}, nil},
		{[]string{"*"}, []string{"null", "https://evil.example"}, nil},
		{[]string{"null"}, []string{"null"}, []string{"https://evil.example"}},
		{[]string{SameOrigin}, nil, []string{"null", "https://evil.example", "http://localhost"}},
	} {
		hs := newQuietServer(t, Options{PingInterval: time.Hour, AllowedOrigins: tc.list})
		self := "http://" + strings.TrimPrefix(hs.URL, "http://")
		for _, o := range append(tc.allowed, "", self) {
			if code, body := dialWS(t, hs.URL+"/?EIO=4&transport=websocket", o); code != 101 {
				t.Errorf("%q, Origin %q: %d %s", tc.list, o, code, body)
			}
		}
		for _, o := range tc.refused {
			if code, body := dialWS(t, hs.URL+"/?EIO=4&transport=websocket", o); code != 403 || body != "Forbidden" {
				t.Errorf("%q, Origin %q: %d %s", tc.list, o, code, body)
			}
			if res, body := request(t, "GET", hs.URL+"/?EIO=4&transport=polling", o, ""); res.StatusCode != 403 || body != forbidden {
				t.Errorf("%q, polling, Origin %q: %d %s", tc.list, o, res.StatusCode, body)
			}
		}
	}
}

func TestOriginRules(t *testing.T) {
	o := parseOrigins([]string{"https://App.Example/", "plain.example", "*.sub.example", "https://*.tls.example", "http://local.example:8080", "https://port.example:443"})
	for _, tc := range []struct {
		origin, host string
		want         bool
	}{
		{"https://app.example", "api.example", true},
		{"http://app.example", "api.example", false}, // scheme given: that scheme only
		{"https://plain.example", "api.example", true},
		{"http://plain.example", "api.example", true},
		{"ftp://plain.example", "api.example", false},
		{"https://plain.example:8443", "api.example", false},
		{"https://x.sub.example", "api.example", true},
		{"https://sub.example", "api.example", false},
		{"https://xsub.example", "api.example", false},
		{"http://x.tls.example", "api.example", false},
		{"https://x.y.tls.example", "api.example", true},
		{"http://local.example:8080", "api.example", true},
		{"http://local.example", "api.example", false},
		{"https://port.example", "api.example", true}, // default port dropped
		// Same origin: the Origin names the Host, default ports aside.
		{"http://api.example:3000", "api.example:3000", true},
		{"https://api.example", "api.example:443", true},
		{"http://api.example", "API.example:80", true},
		{"http://api.example", "api.example:3000", false},
		// Not origins.
		{"https://app.example/", "api.example", false},
		{"https://user@app.example", "api.example", false},
		{"app.example", "api.example", false},
		{"", "api.example", true}, // no Origin: not a browser's cross-origin request
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = tc.host
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if got := o.allowed(r); got != tc.want {
			t.Errorf("Origin %q to %q: %v, want %v", tc.origin, tc.host, got, tc.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["Origin"] = []string{"https://app.example", "https://evil.example"}
	if o.allowed(r) {
		t.Error("two Origin headers allowed")
	}
	if parseOrigins(nil) != nil || !(*origins)(nil).allowed(r) {
		t.Error("no list must allow everything")
	}
}

// AllowedOrigins answers CORS only where CORS is needed, and never
// overrides a CORS option.
func TestAllowedOriginsCORS(t *testing.T) {
	if c := NewServer(Options{AllowedOrigins: []string{SameOrigin}}).Options().CORS; c != nil {
		t.Errorf("same-origin only: CORS %+v", c)
	}
	if c := NewServer(Options{AllowedOrigins: []string{"*"}}).Options().CORS; c == nil || !c.wildcard() || c.Credentials {
		t.Errorf(`"*": CORS %+v`, c)
	}
	mine := &CORS{Origins: []string{"https://mine.example"}}
	if c := NewServer(Options{AllowedOrigins: []string{"https://app.example"}, CORS: mine}).Options().CORS; c != mine {
		t.Errorf("CORS option replaced: %+v", c)
	}
}
