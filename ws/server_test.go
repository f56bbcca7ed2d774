package ws

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// events collects what handlers saw, for tests to wait on.
type events struct {
	mu     sync.Mutex
	opened []*Conn
	texts  []string
	closes []closeEvent
	errs   []error
	ch     chan struct{}
}

type closeEvent struct {
	code   int
	reason string
}

func newEvents() *events { return &events{ch: make(chan struct{}, 1000)} }

func (e *events) handlers() Handlers {
	return Handlers{
		OnOpen: func(c *Conn) { e.add(func() { e.opened = append(e.opened, c) }) },
		OnText: func(c *Conn, text []byte) { e.add(func() { e.texts = append(e.texts, string(text)) }) },
		OnClose: func(c *Conn, code int, reason string) {
			e.add(func() { e.closes = append(e.closes, closeEvent{code, reason}) })
		},
		OnError: func(c *Conn, err error) { e.add(func() { e.errs = append(e.errs, err) }) },
	}
}

func (e *events) add(f func()) {
	e.mu.Lock()
	f()
	e.mu.Unlock()
	e.ch <- struct{}{}
}

// wait waits until cond holds (checked under the lock) or fails the test.
func (e *events) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		ok := cond()
		e.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-e.ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestConnAccessorsAndEvents(t *testing.T) {
	ev := newEvents()
	h := ev.handlers()
	h.OnText = func(c *Conn, text []byte) {
		if c.Data() == nil {
			c.SetData("first")
		}
		_ = c.SendText([]byte(c.Data().(string) + ":" + string(text)))
	}
	srv := &Server{Handlers: h, Subprotocols: []string{"chat.v2", "chat.v1"}}
	u := startServer(t, srv)

	cev := newEvents()
	c, err := Dial(context.Background(), u+"/rooms/1?x=y", &DialOptions{
		Handlers:     cev.handlers(),
		Header:       http.Header{"X-Token": {"t0k"}},
		Subprotocols: []string{"chat.v1", "chat.v2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subprotocol() != "chat.v2" || c.Path() != "/rooms/1" || c.ReadyState() != Open {
		t.Fatalf("client: subprotocol %q path %q state %v", c.Subprotocol(), c.Path(), c.ReadyState())
	}
	if err := c.SendText([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	cev.wait(t, "echo", func() bool { return len(cev.texts) == 1 })
	if cev.texts[0] != "first:hi" {
		t.Fatalf("echo %q", cev.texts[0])
	}
	ev.wait(t, "server open", func() bool { return len(ev.opened) == 1 })
	sc := ev.opened[0]
	if sc.Path() != "/rooms/1" || sc.Headers().Get("X-Token") != "t0k" || sc.Subprotocol() != "chat.v2" ||
		sc.RemoteAddr() == nil || sc.ReadyState() != Open || sc.Data() != "first" {
		t.Fatalf("server conn: path %q token %q sub %q addr %v state %v data %v",
			sc.Path(), sc.Headers().Get("X-Token"), sc.Subprotocol(), sc.RemoteAddr(), sc.ReadyState(), sc.Data())
	}
	if got := len(srv.Connections()); got != 1 {
		t.Fatalf("Connections: %d", got)
	}

	if err := c.Close(4001, "bye now"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(4001, "again"); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	ev.wait(t, "server close", func() bool { return len(ev.closes) == 1 })
	if ev.closes[0] != (closeEvent{4001, "bye now"}) || len(ev.errs) != 0 {
		t.Fatalf("server saw %+v, errors %v", ev.closes[0], ev.errs)
	}
	<-c.Done()
	if c.ReadyState() != Closed || cev.closes[0] != (closeEvent{4001, "bye now"}) {
		t.Fatalf("client: state %v close %+v", c.ReadyState(), cev.closes)
	}
	<-sc.Done()
	sc.mu.Lock()
	hb := sc.hb
	sc.mu.Unlock()
	if hb != nil {
		t.Fatal("heartbeat timer left armed after the close")
	}
	if len(srv.Connections()) != 0 || sc.ReadyState() != Closed {
		t.Fatalf("after close: %d connections, state %v", len(srv.Connections()), sc.ReadyState())
	}
	if err := sc.SendText([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
}

func TestCloseArguments(t *testing.T) {
	for _, tc := range []struct {
		code   int
		reason string
	}{
		{999, ""}, {1004, ""}, {1006, ""}, {1015, ""}, {2000, ""}, {5000, ""},
		{1005, "x"}, {1000, strings.Repeat("a", 124)}, {1000, "\xff"},
	} {
		if err := checkClose(tc.code, tc.reason); err == nil {
			t.Errorf("Close(%d, %d bytes) accepted", tc.code, len(tc.reason))
		}
	}
	for _, code := range []int{1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999} {
		if err := checkClose(code, "ok"); err != nil {
			t.Errorf("Close(%d): %v", code, err)
		}
	}
}

func TestNotAnUpgrade(t *testing.T) {
	u := startServer(t, &Server{})
	resp, err := http.Get("http" + strings.TrimPrefix(u, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestOriginCheck(t *testing.T) {
	u := startServer(t, &Server{})
	addr := strings.TrimPrefix(u, "ws://")
	for _, tc := range []struct {
		origin string
		want   int
	}{
		{"", 101},
		{"http://" + addr, 101},
		{"http://evil.example", 403},
	} {
		var extra []string
		if tc.origin != "" {
			extra = append(extra, "Origin: "+tc.origin)
		}
		p, resp, err := tryDialRaw(addr, extra...)
		if err != nil {
			t.Fatal(err)
		}
		p.c.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("origin %q: status %d, want %d", tc.origin, resp.StatusCode, tc.want)
		}
	}
	allowed := startServer(t, &Server{CheckOrigin: func(r *http.Request) bool {
		return r.Header.Get("Origin") == "https://app.example"
	}})
	for origin, want := range map[string]int{"https://app.example": 101, "http://" + addr: 403} {
		p, resp, err := tryDialRaw(strings.TrimPrefix(allowed, "ws://"), "Origin: "+origin)
		if err != nil {
			t.Fatal(err)
		}
		p.c.Close()
		if resp.StatusCode != want {
			t.Errorf("custom check, origin %q: status %d, want %d", origin, resp.StatusCode, want)
		}
	}
}

func TestSelectSubprotocol(t *testing.T) {
	var mu sync.Mutex
	var handshakeErrs []error
	srv := &Server{
		SelectSubprotocol: func(r *http.Request, offered []string) string {
			if r.URL.Query().Get("bad") != "" {
				return "never-offered"
			}
			return offered[len(offered)-1]
		},
		Handlers: Handlers{OnError: func(c *Conn, err error) {
			mu.Lock()
			handshakeErrs = append(handshakeErrs, err)
			mu.Unlock()
		}},
	}
	u := startServer(t, srv)
	c, err := Dial(context.Background(), u, &DialOptions{Subprotocols: []string{"a", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subprotocol() != "c" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	_ = c.Close(CloseNormal, "")
	<-c.Done()
	if _, err := Dial(context.Background(), u+"/?bad=1", &DialOptions{Subprotocols: []string{"a"}}); err == nil ||
		!strings.Contains(err.Error(), "400") {
		t.Fatalf("dial with a bad choice: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handshakeErrs) != 1 || !strings.Contains(handshakeErrs[0].Error(), "never-offered") {
		t.Fatalf("OnError: %v", handshakeErrs)
	}
}

func TestBroadcast(t *testing.T) {
	srv := &Server{}
	u := startServer(t, srv)
	const n = 5
	evs := make([]*events, n)
	for i := range evs {
		evs[i] = newEvents()
		if _, err := Dial(context.Background(), u, &DialOptions{Handlers: evs[i].handlers()}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Connections()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	msg := []byte("to everyone")
	if got := srv.BroadcastText(msg); got != n {
		t.Fatalf("BroadcastText reached %d", got)
	}
	msg[0] = 'X' // the broadcast kept its own copy
	for i, ev := range evs {
		ev.wait(t, "broadcast", func() bool { return len(ev.texts) == 1 })
		if ev.texts[0] != "to everyone" {
			t.Fatalf("client %d got %q", i, ev.texts[0])
		}
	}
}

// A peer that does not read is closed with 1008 once its queue is full,
// and the sender learns at once.
func TestSlowConsumerQueueFull(t *testing.T) {
	ev := newEvents()
	srv := &Server{Handlers: ev.handlers(), ConnOptions: ConnOptions{MaxQueuedMessages: 4, PingInterval: -1}}
	u := startServer(t, srv)
	p := dialRaw(t, strings.TrimPrefix(u, "ws://"))
	ev.wait(t, "open", func() bool { return len(ev.opened) == 1 })
	sc := ev.opened[0]
	big := make([]byte, 64<<10)
	var err error
	for i := 0; i < 2000 && err == nil; i++ { // at most 128 MiB; socket buffers hold a few
		err = sc.SendBinary(big)
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("send to a peer that does not read: %v", err)
	}
	// The peer reads at last: data, then the close frame, which was sent
	// ahead of the dropped queue.
	for {
		f, err := p.readFrame(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if f.op == opClose {
			if code := binary.BigEndian.Uint16(f.payload); code != 1008 || string(f.payload[2:]) != "send queue full" {
				t.Fatalf("close %s", closeString(f.payload))
			}
			break
		}
	}
	p.expectEOF()
	ev.wait(t, "close", func() bool { return len(ev.closes) == 1 })
	if ev.closes[0].code != 1008 || len(ev.errs) != 1 || !errors.Is(ev.errs[0], ErrQueueFull) {
		t.Fatalf("OnClose %+v, OnError %v", ev.closes, ev.errs)
	}
}

// A peer that stops reading while a write is stuck is cut off after
// WriteTimeout.
func TestWriteTimeout(t *testing.T) {
	ev := newEvents()
	srv := &Server{Handlers: ev.handlers(), ConnOptions: ConnOptions{
		WriteTimeout: 200 * time.Millisecond, MaxQueuedMessages: 100000, MaxQueuedBytes: 1 << 30, PingInterval: -1,
	}}
	u := startServer(t, srv)
	_ = dialRaw(t, strings.TrimPrefix(u, "ws://"))
	ev.wait(t, "open", func() bool { return len(ev.opened) == 1 })
	sc := ev.opened[0]
	big := make([]byte, 256<<10)
	for i := 0; i < 400; i++ { // 100 MiB at most, far past the socket buffers
		if sc.SendBinary(big) != nil {
			break
		}
	}
	ev.wait(t, "close", func() bool { return len(ev.closes) == 1 })
	if ev.closes[0].code != CloseAbnormal || len(ev.errs) != 1 || !errors.Is(ev.errs[0], ErrWriteTimeout) {
		t.Fatalf("OnClose %+v, OnError %v", ev.closes, ev.errs)
	}
}

func TestReadTimeout(t *testing.T) {
	ev := newEvents()
	srv := &Server{Handlers: ev.handlers(), ConnOptions: ConnOptions{ReadTimeout: 300 * time.Millisecond, PingInterval: -1}}
	u := startServer(t, srv)
	p := dialRaw(t, strings.TrimPrefix(u, "ws://"))
	start := time.Now()
	for i := 0; i < 3; i++ { // traffic keeps it open
		time.Sleep(100 * time.Millisecond)
		p.send(true, opText, []byte("x"))
	}
	ev.wait(t, "close", func() bool { return len(ev.closes) == 1 })
	if time.Since(start) < 600*time.Millisecond || ev.closes[0].code != CloseAbnormal || len(ev.errs) != 1 {
		t.Fatalf("after %v: OnClose %+v, OnError %v", time.Since(start), ev.closes, ev.errs)
	}
}

func TestShutdownSendsGoingAway(t *testing.T) {
	ev := newEvents()
	srv := &Server{Handlers: ev.handlers()}
	l := startServer(t, srv) // its cleanup's Shutdown finds nothing left
	p := dialRaw(t, strings.TrimPrefix(l, "ws://"))
	cev := newEvents()
	c, err := Dial(context.Background(), l, &DialOptions{Handlers: cev.handlers()})
	if err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "open", func() bool { return len(ev.opened) == 2 })
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	p.expectClose(1001)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-c.Done()
	if cev.closes[0].code != 1001 {
		t.Fatalf("client saw %+v", cev.closes)
	}
	if _, _, err := tryDialRaw(strings.TrimPrefix(l, "ws://")); err == nil {
		t.Fatal("dial after Shutdown succeeded")
	}
}

// Shutdown's context bounds the wait for peers that never answer.
func TestShutdownDeadline(t *testing.T) {
	srv := &Server{}
	u := startServer(t, srv)
	p := dialRaw(t, strings.TrimPrefix(u, "ws://"))
	_ = p // never reads nor answers
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Connections()) < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestHeartbeat(t *testing.T) {
	ev := newEvents()
	// The pong window is wide enough that the answering peer's goroutine
	// meets it on a loaded CI machine under -race.
	const interval = 400 * time.Millisecond
	srv := &Server{Handlers: ev.handlers(), ConnOptions: ConnOptions{
		PingInterval: interval, PongTimeout: interval,
	}}
	u := startServer(t, srv)
	addr := strings.TrimPrefix(u, "ws://")

	// A peer that answers stays connected across many pings.
	good := dialRaw(t, addr)
	// OnOpen runs on the connection's own goroutine, so the order of
	// ev.opened is not the order of the dials: wait before the next.
	ev.wait(t, "open", func() bool { return len(ev.opened) == 1 })
	goodConn := ev.opened[0]
	var pings atomic.Int32
	stop := make(chan struct{})
	answered := make(chan error, 1)
	go func() {
		for {
			f, err := good.readFrame(5 * interval)
			select {
			case <-stop:
				answered <- nil
				return
			default:
			}
			if err != nil || f.op != opPing {
				answered <- fmt.Errorf("op %d while answering pings: %v", f.op, err)
				return
			}
			pings.Add(1)
			_ = good.c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = good.c.Write(encodeFrame(0x80|opPong, f.payload, true))
		}
	}()
	defer func() {
		close(stop)
		if err := <-answered; err != nil {
			t.Error(err)
		}
	}()

	// A peer that goes silent is closed with 1011.
	silent := dialRaw(t, addr)
	f, err := silent.readFrame(5 * interval)
	if err != nil || f.op != opPing {
		t.Fatalf("first frame: op %d, %v", f.op, err)
	}
	silent.expectClose(1011)
	ev.wait(t, "pong timeout", func() bool { return len(ev.closes) >= 1 })
	// The answering peer lives on for several more pings meanwhile.
	for deadline := time.Now().Add(20 * interval); pings.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(interval / 4)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closes[0] != (closeEvent{1011, "pong timeout"}) || !errors.Is(ev.errs[0], ErrPongTimeout) {
		t.Fatalf("OnClose %+v, OnError %v", ev.closes, ev.errs)
	}
	if len(ev.opened) != 2 || len(ev.closes) != 1 || goodConn.ReadyState() != Open || pings.Load() < 5 {
		t.Fatalf("the answering peer: state %v after %d pings", goodConn.ReadyState(), pings.Load())
	}
}

func TestHeartbeatOff(t *testing.T) {
	s := ConnOptions{PingInterval: -1}.settings(Handlers{})
	if s.pingInterval > 0 {
		t.Fatalf("pingInterval %v", s.pingInterval)
	}
	ev := newEvents()
	srv := &Server{Handlers: ev.handlers(), ConnOptions: ConnOptions{PingInterval: -1}}
	u := startServer(t, srv)
	_ = dialRaw(t, strings.TrimPrefix(u, "ws://"))
	ev.wait(t, "open", func() bool { return len(ev.opened) == 1 })
	c := ev.opened[0]
	c.mu.Lock()
	armed := c.hb != nil
	c.mu.Unlock()
	if armed {
		t.Fatal("heartbeat timer armed with PingInterval < 0")
	}
	def := ConnOptions{}.settings(Handlers{})
	if def.pingInterval != DefaultPingInterval || def.pongWait != DefaultPongTimeout {
		t.Fatalf("defaults: %v %v", def.pingInterval, def.pongWait)
	}
}

// A handler that runs longer than the pong deadline does not get its peer
// closed: the pong waits unread behind the handler.
func TestHeartbeatSlowHandler(t *testing.T) {
	ev := newEvents()
	h := ev.handlers()
	h.OnText = func(c *Conn, text []byte) {
		time.Sleep(300 * time.Millisecond)
		_ = c.SendText(text)
	}
	srv := &Server{Handlers: h, ConnOptions: ConnOptions{PingInterval: 50 * time.Millisecond, PongTimeout: 30 * time.Millisecond}}
	u := startServer(t, srv)
	cev := newEvents()
	c, err := Dial(context.Background(), u, &DialOptions{Handlers: cev.handlers(), ConnOptions: ConnOptions{PingInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SendText([]byte("slow"))
	cev.wait(t, "echo", func() bool { return len(cev.texts) == 1 || len(cev.closes) == 1 })
	if len(cev.texts) != 1 {
		t.Fatalf("closed during a slow handler: %+v", cev.closes)
	}
	_ = c.Close(CloseNormal, "")
	<-c.Done()
}

func TestCompression(t *testing.T) {
	addr := startEcho(t, ConnOptions{Compression: true, CompressionThreshold: 100})
	p, resp, err := tryDialRaw(addr, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	if err != nil {
		t.Fatal(err)
	}
	p.t = t
	defer p.c.Close()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("extension not negotiated: %q", ext)
	}
	small := strings.Repeat("s", 50)
	p.send(true, opText, []byte(small))
	f, err := p.readFrame(5 * time.Second)
	if err != nil || f.rsv != 0 || string(f.payload) != small {
		t.Fatalf("small message: rsv %#x %q %v", f.rsv, f.payload, err)
	}
	large := strings.Repeat("compress me ", 100)
	p.write(encodeFrame(0x80|0x40|opText, deflate(t, []byte(large)), true)) // a compressed message in
	f, err = p.readFrame(5 * time.Second)
	if err != nil || f.rsv != 0x40 || len(f.payload) >= len(large) {
		t.Fatalf("large message: rsv %#x, %d bytes, %v", f.rsv, len(f.payload), err)
	}
	if got := inflate(t, f.payload); got != large {
		t.Fatalf("inflated echo differs: %d bytes", len(got))
	}

	// RFC 7692 6.1: only the first frame of a message may carry RSV1.
	for name, frames := range map[string][][]byte{
		"continuation": {encodeFrame(0x40|opText, deflate(t, []byte("ab")), true), encodeFrame(0x80|0x40|opCont, nil, true)},
		"ping":         {encodeFrame(0x80|0x40|opPing, nil, true)},
		"close":        {encodeFrame(0x80|0x40|opClose, closeBody(1000, ""), true)},
	} {
		t.Run("rsv1-"+name, func(t *testing.T) {
			p, _, err := tryDialRaw(addr, "Sec-WebSocket-Extensions: permessage-deflate")
			if err != nil {
				t.Fatal(err)
			}
			p.t = t
			defer p.c.Close()
			for _, f := range frames {
				p.write(f)
			}
			p.expectClose(1002)
		})
	}
	t.Run("corrupt", func(t *testing.T) {
		p, _, err := tryDialRaw(addr, "Sec-WebSocket-Extensions: permessage-deflate")
		if err != nil {
			t.Fatal(err)
		}
		p.t = t
		defer p.c.Close()
		p.write(encodeFrame(0x80|0x40|opText, []byte{0xff, 0xff, 0xff, 0xff, 0xff}, true))
		p.expectClose(1007)
	})
}

func TestCompressionWithDial(t *testing.T) {
	ev := newEvents()
	srv := &Server{Handlers: echoHandlers(), ConnOptions: ConnOptions{Compression: true}}
	u := startServer(t, srv)
	c, err := Dial(context.Background(), u, &DialOptions{Handlers: ev.handlers(), ConnOptions: ConnOptions{Compression: true}})
	if err != nil {
		t.Fatal(err)
	}
	if ext := c.Headers().Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("not negotiated: %q", ext)
	}
	big := strings.Repeat("0123456789", 10000)
	_ = c.SendText([]byte(big))
	ev.wait(t, "echo", func() bool { return len(ev.texts) == 1 })
	if ev.texts[0] != big {
		t.Fatal("echo differs")
	}
	_ = c.Close(CloseNormal, "")
	<-c.Done()
}

func TestInflatedSizeLimit(t *testing.T) {
	// A small compressed frame that inflates past MaxMessageSize.
	addr := startEcho(t, ConnOptions{Compression: true, MaxMessageSize: 10000})
	p, _, err := tryDialRaw(addr, "Sec-WebSocket-Extensions: permessage-deflate")
	if err != nil {
		t.Fatal(err)
	}
	p.t = t
	defer p.c.Close()
	bomb := deflate(t, bytes.Repeat([]byte("a"), 1<<20))
	if len(bomb) > 10000 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	p.write(encodeFrame(0x80|0x40|opText, bomb, true))
	p.expectClose(1009)
}

// deflate compresses a message as permessage-deflate does: raw DEFLATE,
// sync-flushed, without the final 00 00 ff ff.
func deflate(t *testing.T, p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write(p)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func inflate(t *testing.T, p []byte) string {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
