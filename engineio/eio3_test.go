package engineio

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sockio/sockio/engineio/packet"
)

// get3 sends a GET (or a POST with body) and returns status, content type
// and body.
func get3(t *testing.T, hs *httptest.Server, query string) (int, string, []byte) {
	t.Helper()
	res, err := hs.Client().Get(hs.URL + "/?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), b
}

func post3(t *testing.T, hs *httptest.Server, query, ctype string, body []byte) (int, string) {
	t.Helper()
	res, err := hs.Client().Post(hs.URL+"/?"+query, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// handshake3 opens a protocol 3 polling session and checks its answer.
func handshake3(t *testing.T, hs *httptest.Server, query string) string {
	t.Helper()
	status, ctype, body := get3(t, hs, "EIO=3&transport=polling&"+query)
	if status != 200 || ctype != "text/plain; charset=UTF-8" {
		t.Fatalf("handshake: %d %s %q", status, ctype, body)
	}
	head, open, ok := strings.Cut(string(body), ":")
	if !ok || head != strconv.Itoa(len(open)) || open[0] != '0' {
		t.Fatalf("handshake answer %q: want <length>:0{...} alone", body)
	}
	var o struct{ SID string }
	if err := json.Unmarshal([]byte(open[1:]), &o); err != nil {
		t.Fatal(err)
	}
	return o.SID
}

func TestEIO3RefusedByDefault(t *testing.T) {
	_, hs, _, _ := newServer(t, Options{})
	for _, q := range []string{"EIO=3&transport=polling", "transport=polling", "EIO=5&transport=polling"} {
		status, _, body := get3(t, hs, q)
		if status != 400 || string(body) != `{"code":5,"message":"Unsupported protocol version"}` {
			t.Errorf("%s: %d %s", q, status, body)
		}
	}
}

func TestEIO3Polling(t *testing.T) {
	_, hs, sessions, recs := newServer(t, Options{AllowEIO3: true, PingInterval: time.Hour})
	sid := handshake3(t, hs, "b64=1")
	s, rec := <-sessions, <-recs
	if s.Protocol() != 3 {
		t.Fatalf("Protocol() = %d", s.Protocol())
	}
	q := "EIO=3&transport=polling&sid=" + sid

	// Sent while the handshake was answered: in the next poll, with its
	// length in UTF-16 units, binary as b4+base64.
	_ = s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("h\u00e9\U0001F600")},
		packet.Packet{Type: packet.Message, Data: []byte{1, 2, 3}, Binary: true})
	if _, ctype, body := get3(t, hs, q); string(body) != "5:4h\u00e9\U0001F6006:b4AQID" || ctype != "text/plain; charset=UTF-8" {
		t.Errorf("poll: %s %q", ctype, body)
	}

	// A text POST, then a binary one; a ping is answered with a pong.
	if status, body := post3(t, hs, q, "text/plain;charset=UTF-8", []byte("1:25:4a\u00e9\U0001F6006:b4BQY=")); status != 200 || body != "ok" {
		t.Fatalf("POST: %d %s", status, body)
	}
	bin := []byte{0, 2, 255, '4', 'x', 1, 3, 255, 4, 9, 9}
	if status, body := post3(t, hs, q, "application/octet-stream", bin); status != 200 || body != "ok" {
		t.Fatalf("binary POST: %d %s", status, body)
	}
	if _, _, body := get3(t, hs, q); string(body) != "1:3" {
		t.Errorf("pong: %q", body)
	}
	rec.mu.Lock()
	got := strings.Join(rec.msgs, "|")
	rec.mu.Unlock()
	if want := "a\u00e9\U0001F600|\x05\x06|x|\x09\x09"; got != want {
		t.Errorf("messages %q, want %q", got, want)
	}

	// The other protocol's requests are refused.
	if status, _, body := get3(t, hs, "EIO=4&transport=polling&sid="+sid); status != 400 || !strings.Contains(string(body), `"code":3`) {
		t.Errorf("EIO=4 GET: %d %s", status, body)
	}
}

func TestEIO3BinaryPayload(t *testing.T) {
	_, hs, sessions, _ := newServer(t, Options{AllowEIO3: true, PingInterval: time.Hour})
	sid := handshake3(t, hs, "") // no b64: an XHR2 client
	s := <-sessions
	_ = s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("451-[\"e\"]")},
		packet.Packet{Type: packet.Message, Data: []byte{1, 2}, Binary: true})
	_, ctype, body := get3(t, hs, "EIO=3&transport=polling&sid="+sid)
	want := append([]byte{0, 1, 0, 255}, "4451-[\"e\"]"...)
	want = append(want, 1, 3, 255, 4, 1, 2)
	if ctype != "application/octet-stream" || !bytes.Equal(body, want) {
		t.Errorf("binary payload %s %v, want %v", ctype, body, want)
	}
}

func TestEIO3Heartbeat(t *testing.T) {
	const interval, timeout = 100 * time.Millisecond, 100 * time.Millisecond
	_, hs, _, recs := newServer(t, Options{AllowEIO3: true, PingInterval: interval, PingTimeout: timeout})

	// Pings keep the session past pingInterval + pingTimeout several times.
	sid := handshake3(t, hs, "b64=1")
	rec := <-recs
	q := "EIO=3&transport=polling&sid=" + sid
	for end := time.Now().Add(4 * (interval + timeout)); time.Now().Before(end); {
		post3(t, hs, q, "text/plain", []byte("1:2"))
		if _, _, body := get3(t, hs, q); string(body) != "1:3" {
			t.Fatalf("pong: %q", body)
		}
		time.Sleep(interval / 2)
	}
	select {
	case <-rec.closed:
		t.Fatalf("closed while pinging: %s", rec.reason)
	default:
	}
	// No ping: closed, a ping timeout.
	if reason, _ := rec.wait(t); reason != ReasonPingTimeout {
		t.Errorf("reason %q", reason)
	}

	// A pong from the client is the wrong direction.
	sid = handshake3(t, hs, "b64=1")
	rec = <-recs
	post3(t, hs, "EIO=3&transport=polling&sid="+sid, "text/plain", []byte("1:3"))
	if reason, err := rec.wait(t); reason != ReasonTransportError || !errors.Is(err, ErrBadHeartbeat) {
		t.Errorf("pong from the client: %q %v", reason, err)
	}
}

// Unlike the reference, whose upgrade drops the heartbeat timer of a
// protocol 3 session, a client that stops pinging after an upgrade is
// still closed.
func TestEIO3HeartbeatAfterUpgrade(t *testing.T) {
	_, hs, _, recs := newServer(t, Options{AllowEIO3: true, PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	sid := handshake3(t, hs, "b64=1")
	rec := <-recs
	ws := dial3(t, hs, "sid="+sid)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "3probe" {
		t.Fatalf("probe: %q %v", data, err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2"))
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "3" {
		t.Fatalf("pong over the websocket: %q %v", data, err)
	}
	if reason, _ := rec.wait(t); reason != ReasonPingTimeout {
		t.Errorf("reason %q", reason)
	}
}

func dial3(t *testing.T, hs *httptest.Server, query string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=3&transport=websocket&"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func TestEIO3WebSocketFrames(t *testing.T) {
	_, hs, sessions, recs := newServer(t, Options{AllowEIO3: true, PingInterval: time.Hour})
	for _, b64 := range []bool{false, true} {
		q := ""
		if b64 {
			q = "b64=1"
		}
		ws := dial3(t, hs, q)
		s, rec := <-sessions, <-recs
		if _, data, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(data), `0{"sid":`) || !strings.Contains(string(data), `"upgrades":[]`) {
			t.Fatalf("open packet %q %v", data, err)
		}
		_ = s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte{7, 8}, Binary: true})
		typ, data, err := ws.ReadMessage()
		switch {
		case err != nil:
			t.Fatal(err)
		case b64 && (typ != websocket.TextMessage || string(data) != "b4Bwg="):
			t.Errorf("b64: frame %d %q", typ, data)
		case !b64 && (typ != websocket.BinaryMessage || !bytes.Equal(data, []byte{4, 7, 8})):
			t.Errorf("binary frame %d %v", typ, data)
		}
		// From the client: a type byte first; an unknown one is ignored.
		_ = ws.WriteMessage(websocket.BinaryMessage, []byte{9, 1})
		_ = ws.WriteMessage(websocket.BinaryMessage, []byte{4, 5, 6})
		_ = ws.WriteMessage(websocket.TextMessage, []byte("b4AQ=="))
		_ = ws.WriteMessage(websocket.TextMessage, []byte("2"))
		if _, data, err := ws.ReadMessage(); err != nil || string(data) != "3" {
			t.Fatalf("pong %q %v", data, err)
		}
		rec.mu.Lock()
		got := strings.Join(rec.msgs, "|")
		rec.mu.Unlock()
		if got != "\x05\x06|\x01" {
			t.Errorf("messages %q", got)
		}
	}
}

func TestEIO3JSONP(t *testing.T) {
	_, hs, sessions, recs := newServer(t, Options{AllowEIO3: true, PingInterval: time.Hour})
	status, ctype, body := get3(t, hs, "EIO=3&transport=polling&j=x4y2&b64=1")
	m := strings.TrimSuffix(strings.TrimPrefix(string(body), "___eio[42]("), ");")
	if status != 200 || ctype != "text/plain; charset=UTF-8" || len(m) == len(body) {
		t.Fatalf("handshake: %d %s %q", status, ctype, body)
	}
	var payload string
	if err := json.Unmarshal([]byte(m), &payload); err != nil {
		t.Fatal(err)
	}
	var o struct{ SID string }
	_ = json.Unmarshal([]byte(payload[strings.Index(payload, ":")+2:]), &o)
	s, rec := <-sessions, <-recs
	q := "EIO=3&transport=polling&j=42&sid=" + o.SID

	// The client escapes newlines: "\n" is a newline, `\\n` the two
	// characters `\n`.
	form := url.Values{"d": {`7:4a\nb\\nc`}}.Encode()
	if status, body := post3(t, hs, q, "application/x-www-form-urlencoded", []byte(form)); status != 200 || body != "ok" {
		t.Fatalf("POST %d %s", status, body)
	}
	rec.mu.Lock()
	got := strings.Join(rec.msgs, "|")
	rec.mu.Unlock()
	if got != "a\nb\\nc" {
		t.Errorf("message %q", got)
	}
	_ = s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("\"\\\u2028\x01\n")})
	if _, _, body := get3(t, hs, q); string(body) != `___eio[42]("6:4\"\\\u2028\u0001\n");` {
		t.Errorf("poll %q", body)
	}
}

func TestAppendJSString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              `"plain"`,
		"q\"b\\":             `"q\"b\\"`,
		"\b\f\n\r\t\x00\x1f": `"\b\f\n\r\t\u0000\u001f"`,
		"\u2028\u2029é😀":     `"\u2028\u2029é😀"`,
		"\x7f<>&":            "\"\x7f<>&\"",
	} {
		if got := string(appendJSString(nil, []byte(in))); got != want {
			t.Errorf("appendJSString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestJSONPPayload(t *testing.T) {
	for in, want := range map[string]string{
		`a\nb`:      "a\nb",
		`a\\nb`:     `a\nb`,
		`a\\\nb`:    `a\\nb`,
		`\`:         `\`,
		`x\`:        `x\`,
		"no escape": "no escape",
	} {
		got, ok := jsonpPayload([]byte(url.Values{"d": {in}}.Encode()))
		if !ok || string(got) != want {
			t.Errorf("jsonpPayload(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := jsonpPayload([]byte("d=1&d=2")); ok {
		t.Error("two d fields accepted")
	}
	if _, ok := jsonpPayload([]byte("e=1")); ok {
		t.Error("no d field accepted")
	}
}
