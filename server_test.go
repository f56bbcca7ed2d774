package sockio

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rawClient speaks Engine.IO over a websocket, by hand, so tests see the
// exact packets the server writes.
type rawClient struct {
	t  testing.TB
	ws *websocket.Conn
}

func dial(t testing.TB, srv *httptest.Server) *rawClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &rawClient{t: t, ws: ws}
	if open := c.read(); !strings.HasPrefix(open, `0{"sid":`) {
		t.Fatalf("open packet: %q", open)
	}
	return c
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// read returns the next text message that is not a ping (pings are answered).
func (c *rawClient) read() string {
	c.t.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if typ == websocket.TextMessage && string(data) == "2" {
			c.send("3")
			continue
		}
		return string(data)
	}
}

// readErr reads until the server closes the connection and returns the
// error; a read that times out (the connection stayed open) fails the test.
func (c *rawClient) readErr() error {
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("connection still open after 5s")
			}
			return err
		}
	}
}

func (c *rawClient) connect(nsp string) string {
	c.t.Helper()
	if nsp == "/" {
		c.send("40")
	} else {
		c.send("40" + nsp + ",")
	}
	return c.read()
}

func newTestServer(t testing.TB, opts Options) (*Server, *httptest.Server) {
	io := NewServer(opts)
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
	})
	return io, hs
}

func TestConnectEventAndAck(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	io.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = e.Ack(e.Args) })
		s.On("typed", func(n int, m map[string]any, ack Ack) { ack(n+1, m["k"]) })
	})
	c := dial(t, hs)
	got := c.connect("/")
	var sid struct{ SID string }
	if !strings.HasPrefix(got, "40{") || json.Unmarshal([]byte(got[2:]), &sid) != nil || len(sid.SID) != 20 {
		t.Fatalf("connect answer %q", got)
	}
	// Raw args come back byte for byte: key order and number text kept.
	c.send(`421["echo",{"b":1,"a":2.50},"x"]`)
	if got := c.read(); got != `431[{"b":1,"a":2.50},"x"]` {
		t.Fatalf("ack %q", got)
	}
	c.send(`427["typed",41,{"k":"v"}]`)
	if got := c.read(); got != `437[42,"v"]` {
		t.Fatalf("typed ack %q", got)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	io.OnConnection(func(s *Socket) {
		s.On("bin", func(b []byte, ack Ack) { ack(map[string]any{"got": b, "n": len(b)}) })
	})
	c := dial(t, hs)
	c.connect("/")
	c.send(`451-3["bin",{"_placeholder":true,"num":0}]`)
	if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := c.read(); got != `461-3[{"got":{"_placeholder":true,"num":0},"n":3}]` {
		t.Fatalf("binary ack header %q", got)
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, data, err := c.ws.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage || string(data) != "\x01\x02\x03" {
		t.Fatalf("attachment %v %q %v", typ, data, err)
	}
}

func TestMiddlewareRefusesWithData(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	io.Use(func(s *Socket) error {
		if s.Handshake().Auth["token"] != "ok" {
			return &ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "bad token"}}
		}
		return nil
	})
	c := dial(t, hs)
	c.send(`40{"token":"no"}`)
	if got := c.read(); got != `44{"message":"unauthorized","data":{"reason":"bad token"}}` {
		t.Fatalf("connect error %q", got)
	}
	c.send(`40{"token":"ok"}`)
	if got := c.read(); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("second connect %q", got)
	}
}

func TestUnknownNamespace(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	c := dial(t, hs)
	if got := c.connect("/nope"); got != `44/nope,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", got)
	}
}

func TestParseErrorClosesConnection(t *testing.T) {
	for _, bad := range []string{`42{"a":1}`, `9`, `42["disconnect"]`, `42[]`, `4x`} {
		t.Run(bad, func(t *testing.T) {
			_, hs := newTestServer(t, Options{})
			c := dial(t, hs)
			c.connect("/")
			c.send(bad)
			if err := c.readErr(); err == nil {
				t.Fatal("connection stayed open")
			}
		})
	}
}

func TestBroadcastToRoomsExcept(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	joined := make(chan struct{}, 3)
	io.OnConnection(func(s *Socket) {
		s.On("join", func(room string, ack Ack) { s.Join(room); ack(); joined <- struct{}{} })
	})
	a, b, c := dial(t, hs), dial(t, hs), dial(t, hs)
	for _, cl := range []*rawClient{a, b, c} {
		cl.connect("/")
	}
	a.send(`420["join","r1"]`)
	b.send(`420["join","r1"]`)
	c.send(`420["join","r2"]`)
	for _, cl := range []*rawClient{a, b, c} {
		if got := cl.read(); got != "430[]" {
			t.Fatalf("join ack %q", got)
		}
	}
	if err := io.To("r1", "r2").Except("r2").Emit("hello", 1); err != nil {
		t.Fatal(err)
	}
	if err := io.To("r2").Emit("only-r2"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*rawClient{a, b} {
		if got := cl.read(); got != `42["hello",1]` {
			t.Fatalf("room member got %q", got)
		}
	}
	if got := c.read(); got != `42["only-r2"]` {
		t.Fatalf("excepted socket got %q first", got)
	}
}

func TestServerAckTimeoutAndAnswer(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	sockets := make(chan *Socket, 1)
	io.OnConnection(func(s *Socket) { sockets <- s })
	c := dial(t, hs)
	c.connect("/")
	s := <-sockets

	done := make(chan error, 1)
	go func() {
		_, err := s.Timeout(50*time.Millisecond).EmitWithAck(context.Background(), "q", 1)
		done <- err
	}()
	if got := c.read(); got != `420["q",1]` {
		t.Fatalf("question %q", got)
	}
	if err := <-done; !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}

	go func() {
		res, err := s.EmitWithAck(context.Background(), "q", 2)
		if err == nil {
			var n int
			err = res.Decode(0, &n)
			if n != 3 {
				err = errors.New("wrong answer")
			}
		}
		done <- err
	}()
	if got := c.read(); got != `421["q",2]` {
		t.Fatalf("question %q", got)
	}
	c.send(`431[3]`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBroadcastWithAckGathersAll(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	var wg sync.WaitGroup
	wg.Add(3)
	io.OnConnection(func(s *Socket) { wg.Done() })
	clients := []*rawClient{dial(t, hs), dial(t, hs), dial(t, hs)}
	for _, c := range clients {
		c.connect("/")
	}
	wg.Wait()
	type result struct {
		res []Args
		err error
	}
	out := make(chan result, 1)
	go func() {
		res, err := io.Timeout(2*time.Second).EmitWithAck(context.Background(), "q")
		out <- result{res, err}
	}()
	for i, c := range clients {
		got := c.read()
		var id int
		if _, err := fmtSscanf(got, `42%d["q"]`, &id); err != nil {
			t.Fatalf("question %q: %v", got, err)
		}
		c.send("43" + itoa(id) + "[" + itoa(i) + "]")
	}
	r := <-out
	if r.err != nil || len(r.res) != 3 {
		t.Fatalf("got %d answers, err %v", len(r.res), r.err)
	}
}

func TestDisconnectReasons(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	reasons := make(chan string, 4)
	sockets := make(chan *Socket, 4)
	io.OnConnection(func(s *Socket) {
		s.On("disconnect", func(reason string) { reasons <- reason })
		sockets <- s
	})
	c := dial(t, hs)
	c.connect("/")
	<-sockets
	c.send("41")
	if r := <-reasons; r != ReasonClientNamespaceDisconnect {
		t.Fatalf("client disconnect reason %q", r)
	}
	c.connect("/")
	s := <-sockets
	s.Disconnect()
	if got := c.read(); got != "41" {
		t.Fatalf("server disconnect packet %q", got)
	}
	if r := <-reasons; r != ReasonServerNamespaceDisconnect {
		t.Fatalf("server disconnect reason %q", r)
	}
	c.connect("/")
	<-sockets
	_ = c.ws.Close()
	if r := <-reasons; r != "transport close" {
		t.Fatalf("transport close reason %q", r)
	}
}

// TestResourcesReleased connects and disconnects many clients and checks
// that sessions, sockets and goroutines are all released.
func TestResourcesReleased(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	io.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = e.Ack(e.Args) })
	})
	// Warm up the HTTP server's and client's idle goroutines.
	c := dial(t, hs)
	c.connect("/")
	_ = c.ws.Close()
	waitFor(t, func() bool { return io.Engine().Count() == 0 })
	base := runtime.NumGoroutine()

	const cycles = 1000
	for i := 0; i < cycles; i++ {
		c := dial(t, hs)
		c.connect("/")
		c.send(`421["echo","x"]`)
		if got := c.read(); got != `431["x"]` {
			t.Fatalf("cycle %d: %q", i, got)
		}
		_ = c.ws.Close()
	}
	waitFor(t, func() bool {
		return io.Engine().Count() == 0 && len(io.Of("/").Sockets()) == 0 && len(io.Of("/").Adapter().Rooms()) == 0
	})
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base+2 })
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("condition not met in time; goroutines:\n%s", buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var _ http.Handler = (*Server)(nil)

// A handler that waits for a broadcast's answers gets its own socket's
// answer too: broadcast acks are matched where they arrive, not queued
// behind the waiting handler.
func TestBroadcastAckFromWaitingHandler(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	result := make(chan error, 1)
	io.OnConnection(func(s *Socket) {
		s.On("poll", func() {
			res, err := io.Timeout(2*time.Second).EmitWithAck(context.Background(), "q")
			if err == nil && len(res) != 1 {
				err = errors.New("want one answer")
			}
			result <- err
		})
	})
	c := dial(t, hs)
	c.connect("/")
	c.send(`42["poll"]`)
	got := c.read()
	var id int
	if _, err := fmtSscanf(got, `42%d["q"]`, &id); err != nil {
		t.Fatalf("question %q", got)
	}
	c.send("43" + itoa(id) + `["yes"]`)
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}

// A handler blocked in EmitWithAck is released when the client goes away,
// and the socket is then fully disconnected (no leak, handlers run).
func TestEmitWithAckReleasedOnDisconnect(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	released := make(chan error, 1)
	gone := make(chan string, 1)
	io.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(reason string) { gone <- reason })
		s.On("ask-me", func() {
			_, err := s.EmitWithAck(context.Background(), "q")
			released <- err
		})
	})
	c := dial(t, hs)
	c.connect("/")
	c.send(`42["ask-me"]`)
	if got := c.read(); !strings.HasPrefix(got, `42`) {
		t.Fatalf("question %q", got)
	}
	_ = c.ws.Close()
	select {
	case err := <-released:
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("EmitWithAck returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("EmitWithAck still blocked after the client left")
	}
	if r := <-gone; r != "transport close" {
		t.Fatalf("reason %q", r)
	}
	waitFor(t, func() bool { return len(io.Of("/").Sockets()) == 0 })
}

// A broadcast with an ack and a timeout arms one timer, not one per
// recipient; at the timeout the sockets that did not answer forget the ack.
func TestBroadcastAckTimeoutForgets(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	sockets := make(chan *Socket, 3)
	io.OnConnection(func(s *Socket) { sockets <- s })
	clients := []*rawClient{dial(t, hs), dial(t, hs), dial(t, hs)}
	var ss []*Socket
	for _, c := range clients {
		c.connect("/")
		ss = append(ss, <-sockets)
	}
	pending := func(s *Socket) (n int, timers int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, pa := range s.acks {
			n++
			if pa.timer != nil {
				timers++
			}
		}
		return n, timers
	}
	out := make(chan error, 1)
	go func() {
		_, err := io.Timeout(2*time.Second).EmitWithAck(context.Background(), "q") // long enough to look before it fires
		out <- err
	}()
	var id int
	for _, c := range clients {
		if _, err := fmtSscanf(c.read(), `42%d["q"]`, &id); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range ss {
		if n, timers := pending(s); n != 1 || timers != 0 {
			t.Fatalf("socket %s: %d pending acks with %d timers, want 1 without", s.ID(), n, timers)
		}
	}
	clients[0].send("43" + itoa(id) + "[0]") // one answers, two stay silent
	if err := <-out; !errors.Is(err, ErrTimeout) {
		t.Fatalf("EmitWithAck: %v, want ErrTimeout", err)
	}
	waitFor(t, func() bool {
		for _, s := range ss {
			if n, _ := pending(s); n != 0 {
				return false
			}
		}
		return true
	})
}

// OnAnyOutgoing sees broadcasts; the recipients of one broadcast share a
// single decoding of its arguments.
func TestOnAnyOutgoingBroadcastDecodedOnce(t *testing.T) {
	io, hs := newTestServer(t, Options{})
	type seen struct {
		name string
		args Args
	}
	got := make(chan seen, 3)
	ready := make(chan struct{}, 3)
	io.OnConnection(func(s *Socket) {
		s.OnAnyOutgoing(func(name string, a Args) { got <- seen{name, a} })
		ready <- struct{}{}
	})
	clients := []*rawClient{dial(t, hs), dial(t, hs), dial(t, hs)}
	for _, c := range clients {
		c.connect("/")
		<-ready
	}
	if err := io.Emit("news", map[string]int{"n": 1}, "x"); err != nil {
		t.Fatal(err)
	}
	var first Args
	for i := range clients {
		s := <-got
		if s.name != "news" || s.args.Len() != 2 || string(s.args.Raw(0)) != `{"n":1}` || string(s.args.Raw(1)) != `"x"` {
			t.Fatalf("recipient %d saw %q %v", i, s.name, s.args)
		}
		if i == 0 {
			first = s.args
		} else if argsArray(s.args) != argsArray(first) {
			t.Fatal("a recipient decoded the broadcast again")
		}
	}
	for _, c := range clients {
		if m := c.read(); m != `42["news",{"n":1},"x"]` {
			t.Fatalf("client got %q", m)
		}
	}
}

// argsArray is the address of a's list of arguments: the same for two Args
// from one decoding, different for two decodings.
func argsArray(a Args) uintptr { return reflect.ValueOf(a).FieldByName("raw").Pointer() }
