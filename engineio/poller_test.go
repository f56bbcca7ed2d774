package engineio

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// nonBlocking is a recorder whose sessions are read from the pollers; it
// pauses its session's reads after the message named pauseAt.
type nonBlocking struct {
	*recorder
	s       *Session
	pauseAt string
	seen    chan struct{}
}

func (n *nonBlocking) NonBlocking() {}

func (n *nonBlocking) OnMessage(data []byte, binary bool) {
	n.recorder.OnMessage(data, binary)
	if n.pauseAt != "" && string(data) == n.pauseAt {
		n.s.PauseReading()
	}
	select {
	case n.seen <- struct{}{}:
	default:
	}
}

func (n *nonBlocking) messages() []string {
	n.recorder.mu.Lock()
	defer n.recorder.mu.Unlock()
	return append([]string(nil), n.recorder.msgs...)
}

func (n *nonBlocking) waitCount(t *testing.T, want int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if got := n.messages(); len(got) >= want {
			return got
		}
		select {
		case <-n.seen:
		case <-deadline:
			t.Fatalf("got %d messages, want %d", len(n.messages()), want)
		}
	}
}

func newPolledServer(t *testing.T, pauseAt string) (*Server, *websocket.Conn, *nonBlocking) {
	t.Helper()
	srv, hs, _, _ := newServer(t, Options{})
	handlers := make(chan *nonBlocking, 1)
	srv.OnConnection(func(s *Session) {
		h := &nonBlocking{recorder: newRecorder(), s: s, pauseAt: pauseAt, seen: make(chan struct{}, 1)}
		s.SetHandler(h)
		handlers <- h
	})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if _, open, err := ws.ReadMessage(); err != nil || open[0] != '0' {
		t.Fatalf("open packet %q, %v", open, err)
	}
	return srv, ws, <-handlers
}

// Whatever the poller cannot take without waiting (a control frame, a
// message larger than the read buffer) goes to a reading goroutine, and
// the connection comes back to the poller once idle: all in order.
func TestPolledSessionHandsOffAndBack(t *testing.T) {
	_, ws, h := newPolledServer(t, "")
	send := func(s string) {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range 5 {
		want = append(want, fmt.Sprint(i))
		send("4" + want[len(want)-1])
	}
	pongs := make(chan string, 1)
	ws.SetPongHandler(func(s string) error { pongs <- s; return nil })
	go func() { _, _, _ = ws.ReadMessage() }() // runs the pong handler
	if err := ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 20000)
	want = append(want, big)
	send("4" + big)
	select {
	case p := <-pongs:
		if p != "p" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
	h.waitCount(t, len(want))
	time.Sleep(idleHandoff + 300*time.Millisecond) // back to the poller
	for i := 5; i < 10; i++ {
		want = append(want, fmt.Sprint(i))
		send("4" + want[len(want)-1])
	}
	got := h.waitCount(t, len(want))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %d messages %.80q, want %.80q", len(got), got, want)
	}
}

// PauseReading stops the delivery after the current message, whatever is
// already buffered; ResumeReading delivers the rest, in order.
func TestPauseReading(t *testing.T) {
	_, ws, h := newPolledServer(t, "b")
	w := func(s string) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"4a", "4b", "4c", "4d"} {
		w(s)
	}
	h.waitCount(t, 2)
	time.Sleep(200 * time.Millisecond)
	if got := h.messages(); len(got) != 2 {
		t.Fatalf("delivered while paused: %q", got)
	}
	h.s.ResumeReading()
	got := h.waitCount(t, 4)
	if strings.Join(got, "") != "abcd" {
		t.Fatalf("got %q", got)
	}
}

// A session closed while its reads are paused ends; nothing stays waiting.
func TestCloseWhilePaused(t *testing.T) {
	srv, ws, h := newPolledServer(t, "a")
	if err := ws.WriteMessage(websocket.TextMessage, []byte("4a")); err != nil {
		t.Fatal(err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4b"))
	h.waitCount(t, 1)
	h.s.Close()
	if reason, _ := h.wait(t); reason != ReasonForcedClose {
		t.Fatalf("reason %q", reason)
	}
	if n := srv.Count(); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}
