package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/testkit"
)

// mortal is one node's view of a shared MemoryBroker that can die: dead,
// it neither hears nor says nor keeps anything, as a killed process.
type mortal struct {
	*MemoryBroker
	dead atomic.Bool
}

var errDead = errors.New("node is dead")

func (m *mortal) Subscribe(ctx context.Context, nsp, uid string, h Handler) (Subscription, error) {
	return m.MemoryBroker.Subscribe(ctx, nsp, uid, mortalHandler{m, h})
}

func (m *mortal) Publish(ctx context.Context, msg *Message) (string, error) {
	if m.dead.Load() {
		return "", errDead
	}
	return m.MemoryBroker.Publish(ctx, msg)
}

func (m *mortal) PublishResponse(ctx context.Context, uid string, msg *Message) error {
	if m.dead.Load() {
		return errDead
	}
	return m.MemoryBroker.PublishResponse(ctx, uid, msg)
}

func (m *mortal) PersistSession(ctx context.Context, nsp string, s sockio.Session, ttl time.Duration) error {
	if m.dead.Load() {
		return errDead
	}
	return m.MemoryBroker.PersistSession(ctx, nsp, s, ttl)
}

func (m *mortal) PersistSessions(ctx context.Context, nsp string, keep []sockio.Session, ttl time.Duration, drop []string) error {
	if m.dead.Load() {
		return errDead
	}
	return m.MemoryBroker.PersistSessions(ctx, nsp, keep, ttl, drop)
}

type mortalHandler struct {
	m *mortal
	h Handler
}

func (h mortalHandler) HandleMessage(m *Message, offset string) {
	if !h.m.dead.Load() {
		h.h.HandleMessage(m, offset)
	}
}

func (h mortalHandler) HandleResponse(m *Message) {
	if !h.m.dead.Load() {
		h.h.HandleResponse(m)
	}
}

// peek returns the session kept for pid in "/" without taking it.
func (b *MemoryBroker) peek(pid string) (sockio.Session, time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ms := b.sessions["/\x00"+pid]
	if ms == nil {
		return sockio.Session{}, time.Time{}, false
	}
	return ms.s, ms.expires, true
}

// waitKept waits until the session kept for pid satisfies check.
func waitKept(t *testing.T, b *MemoryBroker, pid string, check func(s sockio.Session) error) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, func() error {
		s, _, ok := b.peek(pid)
		if !ok {
			return fmt.Errorf("no session kept for %s", pid)
		}
		return check(s)
	})
}

func inRooms(rooms ...string) func(s sockio.Session) error {
	return func(s sockio.Session) error {
		for _, r := range rooms {
			if !slices.Contains(s.Rooms, r) {
				return fmt.Errorf("session rooms %v lack %s", s.Rooms, r)
			}
		}
		return nil
	}
}

var liveOpts = Options{
	HeartbeatInterval: 50 * time.Millisecond,
	HeartbeatTimeout:  300 * time.Millisecond,
	LiveSessionsFlush: 50 * time.Millisecond,
	Logger:            discard(),
}

// A client whose node dies with nothing said (no disconnect, no session
// kept at the end) comes back through another node with its id, the rooms
// and data it had, and the events it missed: the live session its node
// kept while it was connected, changes included.
func TestLiveSessionSurvivesNodeDeath(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	m0 := &mortal{MemoryBroker: b}
	n0 := startNode(t, "node0", m0, liveOpts, true)
	n1 := startNode(t, "node1", b, liveOpts, true)
	waitCluster(t, []*node{n0, n1}, 2)

	c := dialClient(t, n0.url(), "victim", nil, nil)
	waitKept(t, b, c.PID, inRooms(c.SID))
	c.Emit("join", "r")
	waitKept(t, b, c.PID, inRooms(c.SID, "r"))
	n0.srv.Of("/").Socket(c.SID).SetData(map[string]any{"name": "victim", "changed": true})
	waitKept(t, b, c.PID, func(s sockio.Session) error {
		if d, _ := s.Data.(map[string]any); d["changed"] != true {
			return fmt.Errorf("data kept %v", s.Data)
		}
		return nil
	})
	_ = n1.srv.To("r").Emit("before", 0)
	offset := c.Expect("before").Last()

	m0.dead.Store(true)
	c.Close() // node0 cannot keep the session now
	for i := range 3 {
		_ = n1.srv.To("r").Emit("m", i)
	}
	c2 := dialClient(t, n1.url(), "victim", map[string]string{"pid": c.PID, "offset": offset}, nil)
	if c2.SID != c.SID {
		t.Fatalf("not recovered: sid %s, was %s", c2.SID, c.SID)
	}
	for i := range 3 {
		var n int
		c2.Expect("m").Arg(t, 0, &n)
		if n != i {
			t.Errorf("missed event %d came as %d", i, n)
		}
	}
	socks, err := n1.srv.In("r").FetchSockets(context.Background())
	if err != nil || len(socks) != 1 || socks[0].ID != c.SID {
		t.Fatalf("room r after recovery: %v, %v", socks, err)
	}
	if d, _ := socks[0].Data.(map[string]any); d["changed"] != true {
		t.Errorf("data after recovery %v", socks[0].Data)
	}
	// Taken once: the recovered socket's own live session replaces it.
	waitKept(t, b, c.PID, inRooms(c.SID, "r"))
}

// A socket that leaves for good (its client disconnects, or the server
// disconnects it) has nothing to recover: its live session goes.
func TestLiveSessionForgottenWhenSocketLeaves(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	n0 := startNode(t, "node0", b, liveOpts, true)
	gone := func(pid string) func() error {
		return func() error {
			if _, _, ok := b.peek(pid); ok {
				return fmt.Errorf("session of %s still kept", pid)
			}
			return nil
		}
	}

	c := dialClient(t, n0.url(), "leaver", nil, nil)
	waitKept(t, b, c.PID, inRooms(c.SID))
	c.Write(1, []byte("41")) // the client disconnects from "/"
	testkit.Eventually(t, 5*time.Second, gone(c.PID))

	c2 := dialClient(t, n0.url(), "kicked", nil, nil)
	waitKept(t, b, c2.PID, inRooms(c2.SID))
	n0.srv.Of("/").Socket(c2.SID).Disconnect()
	testkit.Eventually(t, 5*time.Second, gone(c2.PID))

	// A lost connection keeps the real session in place of the live one.
	c3 := dialClient(t, n0.url(), "lost", nil, nil)
	waitKept(t, b, c3.PID, inRooms(c3.SID))
	c3.Close()
	testkit.Eventually(t, 5*time.Second, func() error {
		if n0.srv.Of("/").Socket(c3.SID) != nil {
			return errors.New("socket still connected")
		}
		return nil
	})
	if _, exp, ok := b.peek(c3.PID); !ok || time.Until(exp) > time.Minute {
		t.Errorf("after a lost connection: kept %v until %v, want the session for the window (1m)", ok, exp)
	}
	time.Sleep(3 * liveOpts.LiveSessionsFlush)
	if _, _, ok := b.peek(c3.PID); !ok {
		t.Error("the session of a lost connection went")
	}
}

// A connected socket's live session is kept for the window plus the
// refresh period and rewritten before it gets that old: it never expires
// while the socket is connected.
func TestLiveSessionRefreshed(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	n0 := startNode(t, "node0", b, liveOpts, true)
	c := dialClient(t, n0.url(), "stayer", nil, nil)
	waitKept(t, b, c.PID, inRooms(c.SID))
	_, exp1, _ := b.peek(c.PID)
	l := n0.adapter().live
	if l.refresh != 30*time.Second || l.ttl != 90*time.Second {
		t.Fatalf("refresh %v ttl %v, want 30s and 90s for a 1m window", l.refresh, l.ttl)
	}
	if left := time.Until(exp1); left <= time.Minute {
		t.Errorf("kept for %v, want more than the window", left)
	}
	// As if the refresh period went by: the snapshot is written again.
	l.flushOnce(time.Now().Add(l.refresh))
	_, exp2, _ := b.peek(c.PID)
	if !exp2.After(exp1) {
		t.Errorf("not refreshed: expires %v, then %v", exp1, exp2)
	}
}

// Without live sessions, only disconnections keep sessions, as the
// reference.
func TestLiveSessionsDisabled(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	opts := liveOpts
	opts.DisableLiveSessions = true
	n0 := startNode(t, "node0", b, opts, true)
	c := dialClient(t, n0.url(), "plain", nil, nil)
	c.Emit("join", "r")
	waitRoom(t, n0, "r", 1)
	time.Sleep(3 * opts.LiveSessionsFlush)
	if _, _, ok := b.peek(c.PID); ok {
		t.Fatal("a connected socket's session is kept with DisableLiveSessions")
	}
	if n0.adapter().live != nil {
		t.Fatal("live sessions running")
	}
}

// closingBroker lets go of nothing while subscribed; once every
// subscription is cancelled (its adapters closed) it keeps no session: a
// session kept after that would be lost with a real broker closed by the
// application once Server.Close returned.
type closingBroker struct {
	*MemoryBroker
	subs atomic.Int64
	late atomic.Int64 // sessions offered after the adapters let go
}

type countedSub struct {
	Subscription
	b *closingBroker
}

func (s countedSub) Cancel() error {
	s.b.subs.Add(-1)
	return s.Subscription.Cancel()
}

func (b *closingBroker) Subscribe(ctx context.Context, nsp, uid string, h Handler) (Subscription, error) {
	sub, err := b.MemoryBroker.Subscribe(ctx, nsp, uid, h)
	if err != nil {
		return nil, err
	}
	b.subs.Add(1)
	return countedSub{sub, b}, nil
}

func (b *closingBroker) PersistSession(ctx context.Context, nsp string, s sockio.Session, ttl time.Duration) error {
	if b.subs.Load() == 0 {
		b.late.Add(1)
		return errors.New("broker closed")
	}
	return b.MemoryBroker.PersistSession(ctx, nsp, s, ttl)
}

// Server.Close keeps every recoverable session before the adapters let
// go of the broker, even when disconnect handlers take their time.
func TestCloseKeepsSessionsBeforeAdaptersClose(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := &closingBroker{MemoryBroker: NewMemoryBroker()}
	opts := liveOpts
	opts.DisableLiveSessions = true // only the sessions kept by Close
	n0 := startNode(t, "node0", b, opts, true)
	n0.srv.OnConnection(func(s *sockio.Socket) {
		s.On("disconnecting", func(string) { time.Sleep(100 * time.Millisecond) })
	})
	var clients []*testkit.Client
	for i := range 5 {
		clients = append(clients, dialClient(t, n0.url(), "c"+itoa(i), nil, nil))
	}
	waitRoom(t, n0, "", 5)
	n0.close()
	if n := b.late.Load(); n != 0 {
		t.Errorf("%d sessions offered after the adapters closed", n)
	}
	for _, c := range clients {
		if _, _, ok := b.MemoryBroker.peek(c.PID); !ok {
			t.Errorf("session of %s not kept", c.Name)
		}
	}
}
