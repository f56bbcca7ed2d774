package engineio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sockio/sockio/engineio/packet"
)

// recorder is a Handler that records what reaches it.
type recorder struct {
	mu     sync.Mutex
	msgs   []string
	reason string
	err    error
	closed chan struct{}
}

func newRecorder() *recorder { return &recorder{closed: make(chan struct{})} }

func (r *recorder) OnMessage(data []byte, binary bool) {
	r.mu.Lock()
	r.msgs = append(r.msgs, string(data))
	r.mu.Unlock()
}

func (r *recorder) OnClose(reason string, err error) {
	r.mu.Lock()
	r.reason, r.err = reason, err
	r.mu.Unlock()
	close(r.closed)
}

func (r *recorder) wait(t *testing.T) (string, error) {
	t.Helper()
	select {
	case <-r.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("session not closed")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason, r.err
}

func newServer(t *testing.T, opts Options) (*Server, *httptest.Server, chan *Session, chan *recorder) {
	srv := NewServer(opts)
	sessions := make(chan *Session, 16)
	recs := make(chan *recorder, 16)
	srv.OnConnection(func(s *Session) {
		r := newRecorder()
		s.SetHandler(r)
		sessions <- s
		recs <- r
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Close(ctx, "")
		hs.Close()
	})
	return srv, hs, sessions, recs
}

func handshake(t *testing.T, hs *httptest.Server) string {
	t.Helper()
	res, err := hs.Client().Get(hs.URL + "/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf strings.Builder
	_, _ = bufCopy(&buf, res)
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(buf.String()[1:]), &open); err != nil {
		t.Fatalf("open packet %q: %v", buf.String(), err)
	}
	return open.SID
}

// probeUpgrade opens a websocket for polling session sid and completes the
// probe (2probe, 3probe); the upgrade packet is the caller's to send. The
// websocket is closed with the test.
func probeUpgrade(t *testing.T, hs *httptest.Server, sid string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "3probe" {
		t.Fatalf("probe answer %q, %v", data, err)
	}
	return ws
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	_, hs, sessions, recs := newServer(t, Options{MaxBufferedPackets: 10, PingInterval: time.Hour})
	handshake(t, hs) // polling, and nobody polls again
	s, rec := <-sessions, <-recs
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		err = s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("x")})
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("want ErrQueueFull, got %v", err)
	}
	if reason, cause := rec.wait(t); reason != ReasonSlowConsumer || !errors.Is(cause, ErrQueueFull) {
		t.Fatalf("reason %q, cause %v", reason, cause)
	}
}

func TestVolatileDroppedWhenNotWritable(t *testing.T) {
	_, hs, sessions, _ := newServer(t, Options{PingInterval: time.Hour})
	handshake(t, hs)
	s := <-sessions
	// No poll is pending: the transport is not writable.
	if s.SendVolatile(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("v")}) {
		t.Fatal("volatile packet queued while no poll was pending")
	}
	if err := s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("n")}); err != nil {
		t.Fatal(err)
	}
}

func TestPingTimeoutOverWebSocket(t *testing.T) {
	_, hs, _, recs := newServer(t, Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	rec := <-recs
	// Read (so pings arrive) but never answer them.
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	if reason, _ := rec.wait(t); reason != ReasonPingTimeout {
		t.Fatalf("reason %q", reason)
	}
}

func TestPongKeepsSessionAlive(t *testing.T) {
	_, hs, sessions, recs := newServer(t, Options{PingInterval: 100 * time.Millisecond, PingTimeout: 400 * time.Millisecond}) // a pong window a loaded -race run meets
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	s, rec := <-sessions, <-recs
	pings := 0
	for pings < 5 {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d pings: %v", pings, err)
		}
		if string(data) == "2" {
			pings++
			_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
	select {
	case <-rec.closed:
		t.Fatalf("closed: %s", rec.reason)
	default:
	}
	s.Close()
	if reason, _ := rec.wait(t); reason != ReasonForcedClose {
		t.Fatalf("reason %q", reason)
	}
}

func TestCloseFlushesAndWaits(t *testing.T) {
	srv, hs, sessions, recs := newServer(t, Options{PingInterval: time.Hour})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	s, rec := <-sessions, <-recs
	_ = s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("last words")})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Close(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if reason, _ := rec.wait(t); reason != ReasonServerShutdown {
		t.Fatalf("reason %q", reason)
	}
	var got []string
	for {
		_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			break
		}
		got = append(got, string(data))
	}
	if len(got) != 2 || got[1] != "4last words" {
		t.Fatalf("client got %q", got)
	}
	if srv.Count() != 0 {
		t.Fatalf("%d sessions left", srv.Count())
	}
}

// A polling session whose client stopped polling does not hold up Close.
func TestCloseDoesNotWaitForAbandonedPolling(t *testing.T) {
	srv, hs, _, recs := newServer(t, Options{PingInterval: time.Hour, PingTimeout: time.Hour})
	handshake(t, hs) // and never poll again
	rec := <-recs
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Close(ctx, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if reason, _ := rec.wait(t); reason != ReasonServerShutdown {
		t.Fatalf("reason %q", reason)
	}
}

// TestWritesOutliveOldDeadlines: the upgrade's probe reply and the pong to a
// WebSocket ping are written with a deadline; once those deadlines have
// passed, later writes (heartbeats, messages) must still go out.
func TestWritesOutliveOldDeadlines(t *testing.T) {
	_, hs, sessions, recs := newServer(t, Options{
		PingInterval: 40 * time.Millisecond, PingTimeout: time.Second, WriteTimeout: 20 * time.Millisecond,
	})
	sid := handshake(t, hs)
	s, rec := <-sessions, <-recs
	ws := probeUpgrade(t, hs, sid)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	// A WebSocket-level ping: its pong is written with a 1 s deadline.
	_ = ws.WriteControl(websocket.PingMessage, []byte("x"), time.Now().Add(time.Second))

	// Past both deadlines (20 ms and 1 s), heartbeats and messages must flow.
	deadline := time.Now().Add(1500 * time.Millisecond)
	pings := 0
	for time.Now().Before(deadline) || pings < 3 {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			t.Fatalf("after %d pings: %v (session: %q, %v)", pings, err, rec.reason, rec.err)
		}
		if string(data) == "2" {
			pings++
			_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
	if err := s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	for {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for the late message: %v", err)
		}
		if string(data) == "4late" {
			break
		}
	}
}

// overlapHandler records messages and whether two deliveries overlapped.
type overlapHandler struct {
	inflight, overlaps atomic.Int32
	mu                 sync.Mutex
	msgs               []string
	first              chan struct{}
	once               sync.Once
}

func (h *overlapHandler) OnMessage(data []byte, _ bool) {
	if h.inflight.Add(1) > 1 {
		h.overlaps.Add(1)
	}
	h.once.Do(func() { close(h.first) })
	time.Sleep(time.Millisecond) // widen the window a second deliverer would need
	h.mu.Lock()
	h.msgs = append(h.msgs, string(data))
	h.mu.Unlock()
	h.inflight.Add(-1)
}

func (h *overlapHandler) OnClose(string, error) {}

// An upgrade that completes while a POST is delivering waits for it: the
// POST's packets all arrive, before the websocket's, and never two at once.
func TestUpgradeWaitsForPost(t *testing.T) {
	srv := NewServer(Options{PingInterval: time.Hour})
	h := &overlapHandler{first: make(chan struct{})}
	srv.OnConnection(func(s *Session) { s.SetHandler(h) })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close(context.Background(), "")
	sid := handshake(t, hs)
	ws := probeUpgrade(t, hs, sid)
	const n = 100
	var body []string
	for i := 0; i < n; i++ {
		body = append(body, fmt.Sprintf("4p%d", i))
	}
	posted := make(chan error, 1)
	go func() {
		res, err := hs.Client().Post(hs.URL+"/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader(strings.Join(body, "\x1e")))
		if err == nil {
			res.Body.Close()
		}
		posted <- err
	}()
	<-h.first // the POST is delivering
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4w"))
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		got := append([]string(nil), h.msgs...)
		h.mu.Unlock()
		if len(got) == n+1 {
			for i := 0; i < n; i++ {
				if got[i] != fmt.Sprintf("p%d", i) {
					t.Fatalf("message %d is %q: %q", i, got[i], got)
				}
			}
			if got[n] != "w" {
				t.Fatalf("last message %q", got[n])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages: %q", len(got), got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if h.overlaps.Load() != 0 {
		t.Fatalf("%d deliveries overlapped", h.overlaps.Load())
	}
}

// panicHandler panics on "boom" and records the rest.
type panicHandler struct{ got chan string }

func (h panicHandler) OnMessage(data []byte, _ bool) {
	if string(data) == "boom" {
		panic("boom")
	}
	h.got <- string(data)
}

func (panicHandler) OnClose(string, error) {}

// A Handler that panics in a POST (net/http recovers it) leaves the session
// able to take the next POST.
func TestPanickingHandlerDoesNotBlockPosts(t *testing.T) {
	srv := NewServer(Options{PingInterval: time.Hour})
	h := panicHandler{got: make(chan string, 1)}
	srv.OnConnection(func(s *Session) { s.SetHandler(h) })
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.ErrorLog = log.New(io.Discard, "", 0) // the recovered panic is expected
	hs.Start()
	defer func() {
		if !t.Failed() { // Close would wait for the stuck POST forever
			_ = srv.Close(context.Background(), "")
			hs.Close()
		}
	}()
	sid := handshake(t, hs)
	post := func(body string) {
		res, err := hs.Client().Post(hs.URL+"/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader(body))
		if err == nil {
			res.Body.Close()
		}
	}
	post("4boom")
	done := make(chan struct{})
	go func() { post("4after"); close(done) }()
	select {
	case got := <-h.got:
		if got != "after" {
			t.Fatalf("got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the POST after a panic was not delivered")
	}
	<-done
}

// echoHandler sends each message back at once, then lingers, as a
// handler on another goroutine may answer before its POST is done.
type echoHandler struct{ s *Session }

func (h *echoHandler) OnMessage(data []byte, _ bool) {
	_ = h.s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: append([]byte(nil), data...)})
	time.Sleep(50 * time.Millisecond) // time enough for a pending poll to take it
}

func (*echoHandler) OnClose(string, error) {}

// A bad packet closes the session with what the packets before it sent
// still unsent, as in the reference (one tick for the whole POST): the
// pending poll gets the close packet alone.
func TestBadPacketInPostWinsOverItsReplies(t *testing.T) {
	srv := NewServer(Options{PingInterval: time.Hour})
	srv.OnConnection(func(s *Session) { s.SetHandler(&echoHandler{s: s}) })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close(context.Background(), "")
	sid := handshake(t, hs)
	url := hs.URL + "/?EIO=4&transport=polling&sid=" + sid
	polled := make(chan string, 1)
	go func() {
		res, err := hs.Client().Get(url)
		if err != nil {
			polled <- err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		polled <- string(b)
	}()
	time.Sleep(100 * time.Millisecond) // the poll is pending
	res, err := hs.Client().Post(url, "text/plain", strings.NewReader("4a\x1e9\x1e4b"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := <-polled; got != "1" {
		t.Fatalf("pending poll got %q, want the close packet alone", got)
	}
}

// pauseHandler pauses its session at "pause" and answers every message.
type pauseHandler struct {
	s   *Session
	got chan string
}

func (h *pauseHandler) OnMessage(data []byte, _ bool) {
	if string(data) == "pause" {
		h.s.PauseReading()
	}
	_ = h.s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: append([]byte("re:"), data...)})
	h.got <- string(data)
}

func (*pauseHandler) OnClose(string, error) {}

// A POST paused by its Handler does not hold back the replies: a pending
// poll gets them, and the rest of the POST is delivered on resume.
func TestPausedPostLetsPollsGo(t *testing.T) {
	srv := NewServer(Options{PingInterval: time.Hour})
	hc := make(chan *pauseHandler, 1)
	srv.OnConnection(func(s *Session) {
		h := &pauseHandler{s: s, got: make(chan string, 4)}
		s.SetHandler(h)
		hc <- h
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close(context.Background(), "")
	sid := handshake(t, hs)
	h := <-hc
	url := hs.URL + "/?EIO=4&transport=polling&sid=" + sid
	posted := make(chan error, 1)
	go func() {
		res, err := hs.Client().Post(url, "text/plain", strings.NewReader("4pause\x1e4after"))
		if err == nil {
			res.Body.Close()
		}
		posted <- err
	}()
	if got := <-h.got; got != "pause" {
		t.Fatalf("first message %q", got)
	}
	res, err := hs.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "4re:pause" {
		t.Fatalf("poll during the pause got %q", body)
	}
	select {
	case got := <-h.got:
		t.Fatalf("%q delivered while paused", got)
	case <-time.After(100 * time.Millisecond):
	}
	h.s.ResumeReading()
	if got := <-h.got; got != "after" {
		t.Fatalf("after resume: %q", got)
	}
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
}
