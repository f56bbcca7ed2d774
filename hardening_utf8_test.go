package sockio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// httpPoller is a polling client spoken by hand over real HTTP, so a test
// sends exactly the bytes it means to and sees exactly those it gets.
type httpPoller struct {
	t   *testing.T
	url string // the Engine.IO endpoint with this session's sid
	hc  *http.Client
}

func newHTTPPoller(t *testing.T, hs *httptest.Server) *httpPoller {
	t.Helper()
	p := &httpPoller{t: t, url: hs.URL + "/socket.io/?EIO=4&transport=polling", hc: &http.Client{Timeout: 5 * time.Second}}
	t.Cleanup(p.hc.CloseIdleConnections)
	open := p.get()
	var hs0 struct{ SID string }
	if !strings.HasPrefix(open, "0{") || json.Unmarshal([]byte(open[1:]), &hs0) != nil {
		t.Fatalf("handshake %q", open)
	}
	p.url += "&sid=" + hs0.SID
	return p
}

func (p *httpPoller) do(method string, body []byte) (int, string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, p.url, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := p.hc.Do(req)
	if err != nil {
		p.t.Fatalf("%s: %v", method, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		p.t.Fatalf("%s body: %v", method, err)
	}
	return res.StatusCode, string(b)
}

func (p *httpPoller) get() string {
	p.t.Helper()
	code, body := p.do(http.MethodGet, nil)
	if code != http.StatusOK {
		p.t.Fatalf("GET %d %q", code, body)
	}
	return body
}

func (p *httpPoller) post(payload string) {
	p.t.Helper()
	if code, body := p.do(http.MethodPost, []byte(payload)); code != http.StatusOK || body != "ok" {
		p.t.Fatalf("POST %q: %d %q", payload, code, body)
	}
}

// next returns the next packet that is not a ping (pings are answered).
func (p *httpPoller) next() string {
	p.t.Helper()
	for {
		for _, pkt := range strings.Split(p.get(), "\x1e") {
			switch pkt {
			case "2":
				p.post("3")
			case "6":
			default:
				return pkt // the tests here expect one packet per poll
			}
		}
	}
}

// TestInvalidUTF8EveryTransport is issue #12's row "invalid UTF-8 in a text
// packet over polling, re-broadcast by a raw handler to a websocket
// client". Text that is not UTF-8 is treated on each transport as the
// reference treats it: over polling the body is read as UTF-8 text
// (U+FFFD for each ill-formed sequence, as Node's string decoding does), so
// listeners on every transport get valid UTF-8; over websocket the frame
// is refused with close 1007 (as Node's ws does), compressed or not, and
// nothing of it is relayed.
func TestInvalidUTF8EveryTransport(t *testing.T) {
	srv, hs := newTestServer(t, Options{PerMessageDeflate: &PerMessageDeflate{Threshold: 1}})
	gone := make(chan string, 4)
	srv.OnConnection(func(s *Socket) {
		s.On("listen", func(ack Ack) { s.Join("listeners"); ack() })
		s.On("relay", func(e *Event) { _ = srv.To("listeners").Emit("relayed", e.Args) })
		s.OnDisconnect(func(reason string) { gone <- reason })
	})

	wsListener := dial(t, hs)
	wsListener.connect("/")
	wsListener.send(`420["listen"]`)
	if got := wsListener.read(); got != "430[]" {
		t.Fatalf("listen ack %q", got)
	}
	pollListener := newHTTPPoller(t, hs)
	pollListener.post("40")
	if got := pollListener.next(); !strings.HasPrefix(got, "40{") {
		t.Fatalf("connect answer %q", got)
	}
	pollListener.post(`420["listen"]`)
	if got := pollListener.next(); got != "430[]" {
		t.Fatalf("listen ack %q", got)
	}
	expect := func(from, want string) {
		t.Helper()
		for name, got := range map[string]string{"websocket": wsListener.read(), "polling": pollListener.next()} {
			if !utf8.ValidString(got) {
				t.Errorf("from %s, the %s listener got invalid UTF-8: %q", from, name, got)
			} else if got != want {
				t.Errorf("from %s, the %s listener got %+q, want %+q", from, name, got, want)
			}
		}
	}

	// Polling: repaired as Node.js repairs it, and relayed.
	sender := newHTTPPoller(t, hs)
	sender.post("40")
	sender.next()
	sender.post("42[\"relay\",\"a\xffb\xe2\x82c\",{\"k\xc0\":\"\xed\xa0\x80\"}]")
	expect("polling", "42[\"relayed\",\"a\ufffdb\ufffdc\",{\"k\ufffd\":\"\ufffd\ufffd\ufffd\"}]")

	// Websocket, plain and compressed: closed with 1007, nothing relayed.
	for _, compress := range []bool{false, true} {
		d := websocket.Dialer{EnableCompression: compress}
		ws, _, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &rawClient{t: t, ws: ws}
		c.read() // open
		c.connect("/")
		ws.EnableWriteCompression(compress)
		c.send("42[\"relay\",\"a\xffb\"]")
		if err := c.readErr(); !websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
			t.Fatalf("compress=%v: read %v, want close 1007", compress, err)
		}
		_ = ws.Close()
		if r := <-gone; r != "transport error" {
			t.Fatalf("compress=%v: disconnect reason %q, want the reference's \"transport error\"", compress, r)
		}
		// The next relay is the first the listeners see.
		sender.post(fmt.Sprintf(`42["relay","after %v"]`, compress))
		expect("websocket", fmt.Sprintf(`42["relayed","after %v"]`, compress))
	}

	// The server's own bytes: a json.RawMessage that is not UTF-8 goes
	// out repaired, rather than get every listener disconnected.
	_ = srv.To("listeners").Emit("raw", json.RawMessage("\"x\xffy\""))
	expect("the server", "42[\"raw\",\"x\ufffdy\"]")
}
