package cluster

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

// disconnect cuts a client's connection (a transport close: the server
// keeps its session) and waits until the session is kept.
func disconnect(t *testing.T, c *testkit.Client, kept func() int, want int) {
	t.Helper()
	c.Close()
	testkit.Eventually(t, 5*time.Second, func() error {
		if n := kept(); n != want {
			return fmt.Errorf("%d sessions kept, want %d", n, want)
		}
		return nil
	})
}

func (b *MemoryBroker) sessionCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sessions)
}

func TestRecoveryAcrossNodes(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	nodes := startCluster(t, b, 3, Options{}, true)
	c := dialClient(t, nodes[0].url(), "roamer", nil, nil)
	if c.PID == "" {
		t.Fatal("no pid in the CONNECT answer: recovery is off")
	}
	c.Emit("join", "room1")
	waitRoom(t, nodes[1], "room1", 1)
	_ = nodes[1].srv.To("room1").Emit("before", 0)
	offset := c.Expect("before").Last()
	if offset == "" {
		t.Fatal("no offset appended to a broadcast from another node")
	}

	disconnect(t, c, b.sessionCount, 1)
	// Missed: to its room, to all, from every node (its own included).
	_ = nodes[1].srv.To("room1").Emit("m", 1)
	_ = nodes[2].srv.Emit("m", 2)
	_ = nodes[2].srv.To("other").Emit("not", 0)     // not its room
	_ = nodes[0].srv.Volatile().Emit("not", 1)      // volatile: never replayed
	_ = nodes[1].srv.Except("room1").Emit("not", 2) // excluded
	_ = nodes[1].srv.Local().Emit("not", 3)         // local to node1
	_ = nodes[0].srv.To("room1").Emit("m", 3)

	// It comes back through another node.
	c2 := dialClient(t, nodes[2].url(), "roamer", map[string]string{"pid": c.PID, "offset": offset}, nil)
	if c2.SID != c.SID || c2.PID != c.PID {
		t.Fatalf("recovered as sid %q pid %q, want %q %q", c2.SID, c2.PID, c.SID, c.PID)
	}
	seen := map[string]bool{offset: true}
	for i := 1; i <= 3; i++ {
		ev := c2.Expect("m")
		var n int
		ev.Arg(t, 0, &n)
		if n != i {
			t.Errorf("missed event %d came as %s", i, ev)
		}
		if off := ev.Last(); off == "" || seen[off] {
			t.Errorf("missed event %s: offset %q empty or seen before", ev, off)
		} else {
			seen[off] = true
		}
	}
	c2.ExpectNone(100 * time.Millisecond)

	// Rooms and data came back: its room reaches it on its new node.
	socks, err := nodes[1].srv.In("room1").FetchSockets(context.Background())
	if err != nil || len(socks) != 1 || socks[0].ID != c.SID {
		t.Fatalf("room1 after recovery: %v, %v", socks, err)
	}
	if data, _ := socks[0].Data.(map[string]any); data["name"] != "roamer" || data["node"] != "node0" {
		t.Errorf("data after recovery %v", socks[0].Data)
	}
	_ = nodes[0].srv.To("room1").Emit("after", 4)
	last := c2.Expect("after").Last()

	// And again, through a third node, with nothing missed.
	disconnect(t, c2, b.sessionCount, 1)
	c3 := dialClient(t, nodes[1].url(), "roamer", map[string]string{"pid": c.PID, "offset": last}, nil)
	if c3.SID != c.SID {
		t.Fatalf("second recovery: sid %q, want %q", c3.SID, c.SID)
	}
	c3.ExpectNone(100 * time.Millisecond)
	c3.Close()
	testkit.Eventually(t, 5*time.Second, func() error {
		if b.sessionCount() != 1 {
			return fmt.Errorf("session not kept")
		}
		return nil
	})
	// Once taken, it is gone: a client with a stale offset is a new socket.
	ctx := context.Background()
	a := nodes[1].adapter()
	if s, err := a.TakeSession(ctx, c.PID); err != nil || s == nil {
		t.Fatalf("TakeSession: %v, %v", s, err)
	}
	if s, err := a.TakeSession(ctx, c.PID); err != nil || s != nil {
		t.Fatalf("second TakeSession: %v, %v; want none", s, err)
	}
}

func TestRecoveryOffsetGone(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	nodes := startCluster(t, b, 2, Options{}, true)
	c := dialClient(t, nodes[0].url(), "late", nil, nil)
	_ = nodes[1].srv.Emit("first")
	offset := c.Expect("first").Last()
	disconnect(t, c, b.sessionCount, 1)
	for i := range MemoryLogLength {
		_ = nodes[1].srv.Local().Emit("x", i) // local: not logged
	}
	for range MemoryLogLength {
		_ = nodes[1].srv.To("nobody").Emit("x")
	}
	c2 := dialClient(t, nodes[1].url(), "late", map[string]string{"pid": c.PID, "offset": offset}, nil)
	if c2.SID == c.SID {
		t.Fatal("recovered although its offset left the log")
	}
}

// pubsubOnly hides the MemoryBroker's Log and SessionStore: a broker that
// only carries messages, as Redis Pub/Sub.
type pubsubOnly struct{ b *MemoryBroker }

func (p pubsubOnly) Subscribe(ctx context.Context, nsp, uid string, h Handler) (Subscription, error) {
	return p.b.Subscribe(ctx, nsp, uid, h)
}

func (p pubsubOnly) Publish(ctx context.Context, m *Message) (string, error) {
	_, err := p.b.Publish(ctx, m)
	return "", err
}

func (p pubsubOnly) PublishResponse(ctx context.Context, uid string, m *Message) error {
	return p.b.PublishResponse(ctx, uid, m)
}

func TestRecoveryWithoutLogIsPerNode(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, pubsubOnly{NewMemoryBroker()}, 2, Options{}, true)
	c := dialClient(t, nodes[0].url(), "home", nil, nil)
	_ = nodes[1].srv.Emit("a", 1)
	offset := c.Expect("a").Last()
	if offset == "" {
		t.Fatal("no offset from the node's own recovery store")
	}
	c.Close()
	time.Sleep(100 * time.Millisecond)
	_ = nodes[1].srv.Emit("a", 2)
	_ = nodes[0].srv.Emit("a", 3)
	// Another node does not know the session...
	other := dialClient(t, nodes[1].url(), "home", map[string]string{"pid": c.PID, "offset": offset}, nil)
	if other.SID == c.SID {
		t.Fatal("recovered on another node without a shared log")
	}
	// ...its own node does, with what it missed.
	c2 := dialClient(t, nodes[0].url(), "home", map[string]string{"pid": c.PID, "offset": offset}, nil)
	if c2.SID != c.SID {
		t.Fatalf("not recovered on its own node: sid %q, want %q", c2.SID, c.SID)
	}
	// Both, in the order node0 saw them (a broadcast from node1 reaches
	// it through the broker, after its own may have).
	got := map[int]bool{}
	for range 2 {
		var n int
		c2.Expect("a").Arg(t, 0, &n)
		got[n] = true
	}
	if !got[2] || !got[3] {
		t.Errorf("missed events %v, want 2 and 3", got)
	}
}

// A broadcast carries the one offset the log gave it, on every node, the
// sender's included; without recovery on, no offset at all.
func TestSameOffsetOnEveryNode(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	nodes := startCluster(t, b, 3, Options{}, true)
	var cs []*testkit.Client
	for i, n := range nodes {
		cs = append(cs, dialClient(t, n.url(), "c"+itoa(i), nil, nil))
	}
	waitRoom(t, nodes[0], "", 3)
	_ = nodes[1].srv.Emit("ev", "x")
	var offsets []string
	for _, c := range cs {
		ev := c.Expect("ev")
		if len(ev.Args) != 2 {
			t.Fatalf("%s got %s, want the argument and an offset", c.Name, ev)
		}
		offsets = append(offsets, ev.Last())
	}
	if offsets[0] == "" || offsets[0] != offsets[1] || offsets[1] != offsets[2] {
		t.Errorf("offsets %q, want one and the same", offsets)
	}
	// Acks and volatile broadcasts are never recovered: no offset. A
	// volatile one may be dropped (a writer still busy with "ev"): send
	// one, then a kept "mark", until every client got one (bounded).
	got := make([]bool, len(cs))
	for try := 0; try < 50 && slices.Contains(got, false); try++ {
		_ = nodes[2].srv.Volatile().Emit("vol", 1)
		_ = nodes[2].srv.Emit("mark", try)
		for i, c := range cs {
			for {
				ev, err := c.Next(5 * time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if ev.Name == "mark" {
					break
				}
				if ev.Name != "vol" || len(ev.Args) != 1 {
					t.Fatalf("%s: volatile broadcast came as %s", c.Name, ev)
				}
				got[i] = true
			}
		}
	}
	if slices.Contains(got, false) {
		t.Fatalf("a client got none of 50 volatile broadcasts: %v", got)
	}

	plain := startCluster(t, NewMemoryBroker(), 2, Options{}, false)
	c := dialClient(t, plain[0].url(), "plain", nil, nil)
	_ = plain[1].srv.Emit("ev", "x")
	if ev := c.Expect("ev"); len(ev.Args) != 1 {
		t.Errorf("without recovery: %s", ev)
	}
}

// TestKeptBroadcastsInLogOrder: a client gets the broadcasts kept for
// recovery in the order of the log, those of its own node included (they
// reach it from the log too), so that its offset, the last event it got,
// says exactly what it has.
func TestKeptBroadcastsInLogOrder(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	nodes := startCluster(t, b, 2, Options{}, true)
	c := dialClient(t, nodes[0].url(), "watcher", nil, nil)
	const each = 300
	done := make(chan struct{}, len(nodes))
	for _, n := range nodes {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				_ = n.srv.Emit("n", i)
			}
		}()
	}
	prev := uint64(0)
	for i := range len(nodes) * each {
		e := c.Expect("n")
		off, err := strconv.ParseUint(e.Last(), 10, 64)
		if err != nil {
			t.Fatalf("event %d: offset %q", i, e.Last())
		}
		if off <= prev {
			t.Fatalf("event %d: offset %d after %d", i, off, prev)
		}
		prev = off
	}
	for range nodes {
		<-done
	}
	c.ExpectNone(50 * time.Millisecond) // and none twice
}
