package engineio

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sockio/sockio/engineio/packet"
)

// orderServer is a server whose hooks report parked polls and probes, and
// can hold the upgrade packet until released.
type orderServer struct {
	hs      *httptest.Server
	s       chan *Session
	parked  chan struct{}
	probed  chan struct{}
	upgrade chan struct{} // the upgrade goroutine holds a read "5" here
	release chan struct{}

	// With holdRead, the upgrade goroutine waits before reading the packet
	// after the probe: what the client sends stays in the kernel.
	holdRead    atomic.Bool
	reading     chan struct{}
	releaseRead chan struct{}
	// With holdPost, a POST waits once it delivered, before its answer.
	holdPost    atomic.Bool
	posted      chan struct{}
	releasePost chan struct{}
}

func newOrderServer(t *testing.T, check time.Duration) *orderServer {
	o := &orderServer{
		parked:  make(chan struct{}, 8),
		probed:  make(chan struct{}, 8),
		upgrade: make(chan struct{}, 1),
		release: make(chan struct{}),

		reading:     make(chan struct{}, 1),
		releaseRead: make(chan struct{}),
		posted:      make(chan struct{}, 1),
		releasePost: make(chan struct{}),
	}
	var hold atomic.Bool
	opts := Options{PingInterval: time.Hour, upgradeCheck: check}
	opts.hooks = &testHooks{
		pollParked: func(*Session) { o.parked <- struct{}{} },
		probed:     func(*Session) { o.probed <- struct{}{} },
		upgradePacket: func(p packet.Packet) {
			if p.Type == packet.Upgrade && hold.Load() {
				o.upgrade <- struct{}{}
				<-o.release
			}
		},
		upgradeRead: func(s *Session) {
			s.mu.Lock()
			probed := s.probed
			s.mu.Unlock()
			if probed && o.holdRead.Load() {
				o.reading <- struct{}{}
				<-o.releaseRead
			}
		},
		postDelivered: func(*Session) {
			if o.holdPost.Load() {
				o.posted <- struct{}{}
				<-o.releasePost
			}
		},
	}
	_, o.hs, o.s, _ = newServer(t, opts)
	hold.Store(true) // set before any upgrade starts
	return o
}

// waitUnread waits until the probing websocket of s has unread bytes: the
// client's packet is in the kernel, not read yet.
func waitUnread(t *testing.T, s *Session) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		ws := s.probeWS
		s.mu.Unlock()
		n, err := ws.Unread()
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip("unread bytes are not known on this platform")
		}
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the upgrade packet never reached the server's socket")
		}
		time.Sleep(time.Millisecond)
	}
}

type answer struct {
	status int
	body   string
}

// poll sends a GET in the background.
func (o *orderServer) poll(sid string) chan answer {
	ch := make(chan answer, 1)
	go func() {
		res, err := o.hs.Client().Get(o.hs.URL + "/?EIO=4&transport=polling&sid=" + sid)
		if err != nil {
			ch <- answer{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ch <- answer{res.StatusCode, string(b)}
	}()
	return ch
}

func (o *orderServer) post(t *testing.T, sid, body string) {
	t.Helper()
	res, err := o.hs.Client().Post(o.hs.URL+"/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %q: %d", body, res.StatusCode)
	}
}

// postAsync sends a POST in the background; its status comes on the channel.
func (o *orderServer) postAsync(sid, body string) chan answer {
	ch := make(chan answer, 1)
	go func() {
		res, err := o.hs.Client().Post(o.hs.URL+"/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader(body))
		if err != nil {
			ch <- answer{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ch <- answer{res.StatusCode, string(b)}
	}()
	return ch
}

func wait[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
	var zero T
	return zero
}

func expect(t *testing.T, ch chan answer, status int, body string) {
	t.Helper()
	a := wait(t, ch, "poll answer")
	if a.status != status || (body != "" && a.body != body) {
		t.Fatalf("poll answered %d %q, want %d %q", a.status, a.body, status, body)
	}
}

// The probe does not let the pending poll go: the reference waits for its
// check, and what the server sends meanwhile goes in that poll.
func TestProbeDoesNotReleasePoll(t *testing.T) {
	o := newOrderServer(t, time.Hour)
	sid := handshake(t, o.hs)
	s := <-o.s
	get := o.poll(sid)
	wait(t, o.parked, "parked poll")
	probeUpgrade(t, o.hs, sid)
	wait(t, o.probed, "probe")
	if err := s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	expect(t, get, 200, "4hello")
}

// The upgrade check lets a pending poll go with a noop, and only a pending
// one: a check with no poll leaves nothing behind.
func TestUpgradeCheckReleasesPendingPoll(t *testing.T) {
	o := newOrderServer(t, time.Hour)
	sid := handshake(t, o.hs)
	s := <-o.s
	get := o.poll(sid)
	wait(t, o.parked, "parked poll")
	probeUpgrade(t, o.hs, sid)
	wait(t, o.probed, "probe")
	check := func() {
		s.mu.Lock()
		gen := s.checkGen
		s.mu.Unlock()
		s.upgradeCheck(gen) // as its timer would
	}
	check()
	expect(t, get, 200, "6")
	check() // no poll pending: nothing to let go
	if err := s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	expect(t, o.poll(sid), 200, "4x")
}

// A GET sent after the upgrade packet is refused with 400, whichever of
// the two the server handles first; one sent before it is an ordinary poll.
func TestPollAfterUpgradePacket(t *testing.T) {
	t.Run("upgrade packet unread in the kernel", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		o.holdRead.Store(true)
		sid := handshake(t, o.hs)
		s := <-o.s
		ws := probeUpgrade(t, o.hs, sid)
		wait(t, o.reading, "upgrade read") // after the probe, not reading
		_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
		waitUnread(t, s)
		get := o.poll(sid)
		wait(t, o.parked, "held poll")
		close(o.releaseRead)
		wait(t, o.upgrade, "upgrade packet")
		o.release <- struct{}{}
		expect(t, get, 400, "")
		checkUpgraded(t, s, ws)
	})
	t.Run("unread bytes that abandon the upgrade", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		o.holdRead.Store(true)
		sid := handshake(t, o.hs)
		s := <-o.s
		ws := probeUpgrade(t, o.hs, sid)
		wait(t, o.reading, "upgrade read")
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4nope")) // fails the upgrade
		waitUnread(t, s)
		get := o.poll(sid)
		wait(t, o.parked, "held poll")
		close(o.releaseRead)
		wait(t, o.parked, "poll parked again, as an ordinary one")
		if err := s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("z")}); err != nil {
			t.Fatal(err)
		}
		expect(t, get, 200, "4z")
	})
	t.Run("poll before the upgrade packet", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		sid := handshake(t, o.hs)
		s := <-o.s
		ws := probeUpgrade(t, o.hs, sid)
		get := o.poll(sid) // nothing unread: an ordinary poll
		wait(t, o.parked, "parked poll")
		_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
		wait(t, o.upgrade, "upgrade packet")
		o.release <- struct{}{}
		expect(t, get, 200, "6")
		checkUpgraded(t, s, ws)
	})
	t.Run("poll before the upgrade packet, with a packet to send", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		sid := handshake(t, o.hs)
		s := <-o.s
		probeUpgrade(t, o.hs, sid)
		get := o.poll(sid)
		wait(t, o.parked, "parked poll")
		if err := s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("p")}); err != nil {
			t.Fatal(err)
		}
		expect(t, get, 200, "4p")
	})
	t.Run("upgrade handled first", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		sid := handshake(t, o.hs)
		ws := probeUpgrade(t, o.hs, sid)
		_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
		wait(t, o.upgrade, "upgrade packet")
		o.release <- struct{}{}
		s := <-o.s
		for s.Transport() != WebSocket {
			time.Sleep(time.Millisecond) // the switch follows the release
		}
		expect(t, o.poll(sid), 400, "")
		checkUpgraded(t, s, ws)
	})
	t.Run("poll handled first", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		sid := handshake(t, o.hs)
		ws := probeUpgrade(t, o.hs, sid)
		_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
		wait(t, o.upgrade, "upgrade packet") // read, not handled yet
		get := o.poll(sid)
		wait(t, o.parked, "parked poll")
		o.release <- struct{}{}
		expect(t, get, 400, "")
		checkUpgraded(t, <-o.s, ws)
	})
	t.Run("upgrade abandoned", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		sid := handshake(t, o.hs)
		s := <-o.s
		ws := probeUpgrade(t, o.hs, sid)
		get := o.poll(sid)
		wait(t, o.parked, "parked poll")
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4nope")) // fails the upgrade
		wait(t, o.parked, "poll parked again")
		if err := s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("y")}); err != nil {
			t.Fatal(err)
		}
		expect(t, get, 200, "4y")
	})
	t.Run("no upgrade packet", func(t *testing.T) {
		o := newOrderServer(t, 10*time.Millisecond)
		sid := handshake(t, o.hs)
		probeUpgrade(t, o.hs, sid)
		// Late, and no upgrade follows: a check lets it go.
		expect(t, o.poll(sid), 200, "6")
	})
}

// checkUpgraded checks that s runs on ws.
func checkUpgraded(t *testing.T, s *Session, ws *websocket.Conn) {
	t.Helper()
	if err := s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("ws")}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "4ws" {
		t.Fatalf("websocket read %q, %v", data, err)
	}
}

// A close packet POSTed with a GET in flight answers the GET with a noop,
// whichever of the two the server handles first; a GET after that one is
// refused.
func TestPostedCloseAnswersPoll(t *testing.T) {
	t.Run("poll handled first", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		sid := handshake(t, o.hs)
		get := o.poll(sid)
		wait(t, o.parked, "parked poll")
		o.post(t, sid, "1")
		expect(t, get, 200, "6")
		expect(t, o.poll(sid), 400, "")
	})
	t.Run("close handled first", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		o.holdPost.Store(true)
		sid := handshake(t, o.hs)
		post := o.postAsync(sid, "1")
		wait(t, o.posted, "delivered POST") // closed, not answered yet
		expect(t, o.poll(sid), 200, "6")
		close(o.releasePost)
		expect(t, post, 200, "ok")
		expect(t, o.poll(sid), 400, "")
	})
	t.Run("poll after the answer", func(t *testing.T) {
		o := newOrderServer(t, time.Hour)
		sid := handshake(t, o.hs)
		o.post(t, sid, "1") // its "ok" is read: the session is gone
		expect(t, o.poll(sid), 400, "")
	})
}
