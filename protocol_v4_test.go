package sockio

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dialV2 opens an Engine.IO 3 websocket as socket.io-client 2.x does and
// returns it with its session id, the open packet read.
func dialV2(t testing.TB, srv *httptest.Server, query string) (*rawClient, string) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=3&transport=websocket" + query
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &rawClient{t: t, ws: ws}
	open := c.read()
	var o struct{ SID string }
	if !strings.HasPrefix(open, "0{") || json.Unmarshal([]byte(open[1:]), &o) != nil {
		t.Fatalf("open packet %q", open)
	}
	return c, o.SID
}

// readFrame returns the next message with its type.
func (c *rawClient) readFrame() (int, []byte) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, data, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return typ, data
}

func TestV2ClientIsConnectedToRoot(t *testing.T) {
	io, hs := newTestServer(t, Options{AllowEIO3: true})
	got := make(chan *Socket, 1)
	io.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = e.Ack(e.Args) })
		got <- s
	})
	c, sid := dialV2(t, hs, "&k=v")
	if msg := c.read(); msg != "40" {
		t.Fatalf("CONNECT %q, want 40 (sent by the server, without a payload)", msg)
	}
	s := <-got
	if s.ID() != sid || s.Client().Conn().Protocol() != 3 {
		t.Errorf("socket id %q (protocol %d), want the Engine.IO sid %q", s.ID(), s.Client().Conn().Protocol(), sid)
	}
	if len(s.Handshake().Auth) != 0 || s.Handshake().Query.Get("k") != "v" {
		t.Errorf("handshake auth %v, query %v", s.Handshake().Auth, s.Handshake().Query)
	}
	if rooms := s.Rooms(); !reflect.DeepEqual(rooms, []string{sid}) {
		t.Errorf("rooms %v", rooms)
	}
	c.send(`421["echo",{"b":1,"a":2.50}]`)
	if msg := c.read(); msg != `431[{"b":1,"a":2.50}]` {
		t.Errorf("ack %q", msg)
	}
	// a second CONNECT to "/" is a protocol error, as with the reference
	c.send("40")
	if err := c.readErr(); err == nil {
		t.Error("still open")
	}
}

func TestV2NamespaceQueryIsAuth(t *testing.T) {
	io, hs := newTestServer(t, Options{AllowEIO3: true})
	got := make(chan *Socket, 1)
	admin := io.Of("/admin")
	admin.Use(func(s *Socket) error {
		if s.Handshake().Auth["role"] != "admin" {
			return &ConnectError{Message: "forbidden"}
		}
		return nil
	})
	admin.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = e.Ack(e.Args) })
		got <- s
	})
	c, sid := dialV2(t, hs, "")
	c.read() // 40
	c.send("40/admin?role=admin&a=1&a=2,")
	if msg := c.read(); msg != "40/admin," {
		t.Fatalf("CONNECT answer %q", msg)
	}
	s := <-got
	if s.ID() != "/admin#"+sid {
		t.Errorf("socket id %q", s.ID())
	}
	want := map[string]any{"role": "admin", "a": []any{"1", "2"}}
	if !reflect.DeepEqual(s.Handshake().Auth, want) {
		t.Errorf("auth %#v, want %#v", s.Handshake().Auth, want)
	}
	// The namespace is read as a path: a query on later packets is dropped.
	c.send(`42/admin?x=1,5["echo","q"]`)
	if msg := c.read(); msg != `43/admin,5["q"]` {
		t.Errorf("ack %q", msg)
	}
	// A CONNECT payload is ignored: no query, no auth.
	c.send("41/admin,")
	c.send(`40/admin,{"role":"admin"}`)
	if msg := c.read(); msg != `44/admin,"forbidden"` {
		t.Errorf("refusal %q", msg)
	}
}

func TestV2ConnectErrors(t *testing.T) {
	io, hs := newTestServer(t, Options{AllowEIO3: true})
	refuse := map[string]error{
		"/data":    &ConnectError{Message: "m", Data: map[string]string{"reason": "r"}},
		"/message": &ConnectError{Message: "forbidden"},
		"/plain":   errors.New("plain error"),
		"/zero":    &ConnectError{Message: "zero", Data: 0},
	}
	for name, err := range refuse {
		io.Of(name).Use(func(*Socket) error { return err })
	}
	c, _ := dialV2(t, hs, "")
	c.read()
	for name, want := range map[string]string{
		"/data":    `44/data,{"reason":"r"}`,
		"/message": `44/message,"forbidden"`,
		"/plain":   `44/plain,"plain error"`,
		"/zero":    `44/zero,"zero"`, // err.data || err.message
		"/nope":    `44/nope,{"message":"Invalid namespace"}`,
	} {
		c.send("40" + name + ",")
		if msg := c.read(); msg != want {
			t.Errorf("%s: %q, want %q", name, msg, want)
		}
	}
	// "/" itself: the refusal comes instead of its CONNECT.
	io.Use(func(s *Socket) error {
		if s.Handshake().Query.Get("token") == "bad" {
			return &ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "bad token"}}
		}
		return nil
	})
	c2, _ := dialV2(t, hs, "&token=bad")
	if msg := c2.read(); msg != `44{"reason":"bad token"}` {
		t.Errorf("root refusal %q", msg)
	}
}

func TestV2AndV4ShareBroadcasts(t *testing.T) {
	io, hs := newTestServer(t, Options{AllowEIO3: true})
	io.OnConnection(func(s *Socket) { s.Join("room") })
	v2, _ := dialV2(t, hs, "")
	if msg := v2.read(); msg != "40" {
		t.Fatal(msg)
	}
	v4 := dial(t, hs)
	v4.connect("/")
	deadline := time.Now().Add(5 * time.Second)
	for len(io.Of("/").Sockets()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := io.To("room").Emit("news", "é", []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	const head = `451-["news","é",{"_placeholder":true,"num":0}]`
	for _, c := range []struct {
		name string
		c    *rawClient
		bin  []byte
	}{{"v2", v2, []byte{4, 1, 2}}, {"v4", v4, []byte{1, 2}}} {
		if typ, data := c.c.readFrame(); typ != websocket.TextMessage || string(data) != head {
			t.Errorf("%s: %d %q", c.name, typ, data)
		}
		if typ, data := c.c.readFrame(); typ != websocket.BinaryMessage || !bytes.Equal(data, c.bin) {
			t.Errorf("%s: attachment %d %v, want %v", c.name, typ, data, c.bin)
		}
	}
}

func TestV2RefusedByDefault(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=3&transport=websocket"
	_, res, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil || res == nil || res.StatusCode != 400 {
		t.Fatalf("EIO=3 without AllowEIO3: %v %v", res, err)
	}
}

func TestSplitNamespaceV4(t *testing.T) {
	for in, want := range map[string][3]string{
		"/":            {"/", "", ""},
		"/admin":       {"/admin", "", ""},
		"/admin?a=1":   {"/admin", "a=1", "q"},
		"/admin?":      {"/admin", "", "q"},
		"/admin#x":     {"/admin", "", ""},
		"/admin?a=1#x": {"/admin", "a=1", "q"},
		"/?token=t":    {"/", "token=t", "q"},
		"/a?b?c":       {"/a", "b?c", "q"},
	} {
		name, query, has := splitNamespaceV4(in)
		if name != want[0] || query != want[1] || has != (want[2] == "q") {
			t.Errorf("splitNamespaceV4(%q) = %q, %q, %v", in, name, query, has)
		}
	}
}

func TestJSTruthy(t *testing.T) {
	for _, v := range []any{nil, false, "", 0, 0.0, json.RawMessage("null"), json.RawMessage(`""`)} {
		if jsTruthy(v) {
			t.Errorf("jsTruthy(%#v) = true", v)
		}
	}
	for _, v := range []any{true, "x", 1, -0.5, map[string]any{}, []int{}, json.RawMessage("{}")} {
		if !jsTruthy(v) {
			t.Errorf("jsTruthy(%#v) = false", v)
		}
	}
}
