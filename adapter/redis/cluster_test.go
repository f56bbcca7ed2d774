package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/testkit"
)

// The modes every cluster test runs in.
var modes = []struct {
	name string
	opts Options
}{
	{"classic", Options{}},
	{"sharded-dynamic", Options{Sharded: true}},
	{"sharded-static", Options{Sharded: true, SubscriptionMode: Static}},
	{"sharded-dynamic-private", Options{Sharded: true, SubscriptionMode: DynamicPrivate}},
}

func forModes(t *testing.T, fn func(t *testing.T, opts env)) {
	testkit.NeedRedis(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { fn(t, env{Options: m.opts}) })
	}
}

// cluster3 starts three nodes with two clients each: c[0],c[1] on node0,
// c[2],c[3] on node1, c[4],c[5] on node2. c[0] and c[3] join room "r",
// c[3] and c[4] join room "q". Every client acknowledges with its name.
func cluster3(t *testing.T, opts env) ([]*node, []*testkit.Client) {
	t.Helper()
	nodes := startCluster(t, 3, opts)
	clients := make([]*testkit.Client, 6)
	for i := range clients {
		name := fmt.Sprintf("c%d", i)
		clients[i] = dialClient(t, nodes[i/2].url(), name, func(testkit.Event) []any { return []any{name} })
	}
	join := func(c *testkit.Client, room string) {
		c.Emit("join", room)
	}
	join(clients[0], "r")
	join(clients[3], "r")
	join(clients[3], "q")
	join(clients[4], "q")
	// Joins are handled in order per connection: an echo round trip after
	// them proves they are done; then wait for the room subscriptions.
	for _, c := range clients {
		c.Emit("echo", "sync")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	testkit.Eventually(t, 5*time.Second, func() error {
		socks, err := nodes[0].srv.In("r").FetchSockets(ctx)
		if err != nil {
			return err
		}
		if len(socks) != 2 {
			return fmt.Errorf("room r has %d sockets", len(socks))
		}
		return nil
	})
	waitRoomSubscriptions(t, nodes)
	return nodes, clients
}

// waitRoomSubscriptions waits until the room channels of the dynamic
// sharded modes are confirmed.
func waitRoomSubscriptions(t *testing.T, nodes []*node) {
	t.Helper()
	for _, n := range nodes {
		a := n.adapter()
		if a.rooms == nil {
			continue
		}
		a.rooms.mu.Lock()
		var keys []sub
		for r, c := range a.rooms.refs {
			if c > 0 {
				keys = append(keys, a.rooms.roomSub(r))
			}
		}
		a.rooms.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := a.r.sub.waitConfirmed(ctx, keys)
		cancel()
		if err != nil {
			t.Fatalf("%s: room subscriptions: %v", n.name, err)
		}
	}
}

// receivers checks that exactly the clients in want get event (and the
// others nothing, within a short wait).
func receivers(t *testing.T, clients []*testkit.Client, event string, want ...int) []testkit.Event {
	t.Helper()
	var got []testkit.Event
	for i, c := range clients {
		if slices.Contains(want, i) {
			got = append(got, c.Expect(event))
		}
	}
	// Whatever the others would get has had the time to arrive: the
	// receivers got theirs after it was sent to all.
	time.Sleep(100 * time.Millisecond)
	for i, c := range clients {
		if !slices.Contains(want, i) {
			c.ExpectNone(0)
		}
	}
	return got
}

func TestBroadcastAcrossNodes(t *testing.T) { forModes(t, testBroadcastAcrossNodes) }

func testBroadcastAcrossNodes(t *testing.T, opts env) {
	testkit.CheckGoroutines(t)
	nodes, c := cluster3(t, opts)

	// To a room, from a node without a member.
	_ = nodes[2].srv.To("r").Emit("room", "x", 1.5, map[string]any{"k": []any{true, nil}})
	for _, ev := range receivers(t, c, "room", 0, 3) {
		if got := ev.String(); got != `room "x" 1.5 {"k":[true,null]}` {
			t.Errorf("got %s", got)
		}
	}
	// To everyone.
	_ = nodes[1].srv.Emit("all", 1)
	receivers(t, c, "all", 0, 1, 2, 3, 4, 5)
	// Except a room.
	_ = nodes[0].srv.Except("r").Emit("except")
	receivers(t, c, "except", 1, 2, 4, 5)
	// Two rooms, a member of both gets it once.
	_ = nodes[0].srv.To("r", "q").Emit("union")
	receivers(t, c, "union", 0, 3, 4)
	// A room except another.
	_ = nodes[1].srv.To("q").Except("r").Emit("q-not-r")
	receivers(t, c, "q-not-r", 4)
	// Local only.
	_ = nodes[1].srv.Local().Emit("local")
	receivers(t, c, "local", 2, 3)
	// A socket id as a room (RemoteSocket.Emit goes this way).
	_ = nodes[0].srv.To(c[5].SID).Emit("direct")
	receivers(t, c, "direct", 5)
	// Volatile still reaches idle clients, in a few tries (one may be
	// dropped while a writer is busy, as the reference allows), and only
	// them.
	got := map[int]bool{}
	for try := 0; try < 50 && len(got) < 2; try++ {
		_ = nodes[2].srv.Volatile().To("q").Emit("volatile")
		_ = nodes[2].srv.To("q").Emit("vmark", try)
		for _, i := range []int{3, 4} {
			ev, err := c[i].Next(10 * time.Second)
			if err != nil || (ev.Name != "volatile" && ev.Name != "vmark") {
				t.Fatalf("client %d: %v %v, want volatile or vmark", i, ev, err)
			}
			if ev.Name == "volatile" {
				got[i] = true
				c[i].Expect("vmark")
			}
		}
	}
	if len(got) < 2 {
		t.Fatalf("volatile broadcast: only %v of clients 3 and 4 got one in 50 tries", got)
	}
	time.Sleep(100 * time.Millisecond)
	for i := range c {
		if i != 3 && i != 4 {
			c[i].ExpectNone(0)
		}
	}
	// Binary.
	_ = nodes[2].srv.To("r").Emit("bin", []byte{1, 2, 3}, map[string]any{"b": []byte{9}})
	for _, ev := range receivers(t, c, "bin", 0, 3) {
		if len(ev.Attachments) != 2 || string(ev.Attachments[0]) != "\x01\x02\x03" || string(ev.Attachments[1]) != "\x09" {
			t.Errorf("attachments %q", ev.Attachments)
		}
	}
}

func TestSocketBroadcastAcrossNodes(t *testing.T) { forModes(t, testSocketBroadcastAcrossNodes) }

func testSocketBroadcastAcrossNodes(t *testing.T, opts env) {
	nodes, c := cluster3(t, opts)
	// A socket's broadcast reaches every other socket, on every node.
	s := nodes[0].srv.Of("/").Socket(c[0].SID)
	if s == nil {
		t.Fatal("c0 not on node0")
	}
	_ = s.Broadcast().Emit("from-c0")
	receivers(t, c, "from-c0", 1, 2, 3, 4, 5)
	_ = s.To("q").Emit("c0-to-q")
	receivers(t, c, "c0-to-q", 3, 4)
}

func TestBroadcastWithAckAcrossNodes(t *testing.T) { forModes(t, testBroadcastWithAckAcrossNodes) }

func testBroadcastWithAckAcrossNodes(t *testing.T, opts env) {
	nodes, c := cluster3(t, opts)
	ctx := context.Background()

	res, err := nodes[1].srv.Timeout(3*time.Second).EmitWithAck(ctx, "ask", "?")
	if err != nil {
		t.Fatal(err)
	}
	if got := ackNames(t, res); !slices.Equal(got, []string{"c0", "c1", "c2", "c3", "c4", "c5"}) {
		t.Errorf("answers %v", got)
	}
	for _, cl := range c {
		cl.Expect("ask")
	}

	res, err = nodes[2].srv.To("r").Timeout(3*time.Second).EmitWithAck(ctx, "ask-r")
	if err != nil {
		t.Fatal(err)
	}
	if got := ackNames(t, res); !slices.Equal(got, []string{"c0", "c3"}) {
		t.Errorf("answers %v", got)
	}

	// The callback form, through Emit.
	done := make(chan []sockio.Args, 1)
	_ = nodes[0].srv.To("q").Timeout(3*time.Second).Emit("ask-q", func(err error, res []sockio.Args) {
		if err != nil {
			t.Error(err)
		}
		done <- res
	})
	select {
	case res := <-done:
		if got := ackNames(t, res); !slices.Equal(got, []string{"c3", "c4"}) {
			t.Errorf("answers %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no callback")
	}
}

func TestBroadcastWithAckTimeoutAcrossNodes(t *testing.T) {
	forModes(t, testBroadcastWithAckTimeoutAcrossNodes)
}

func testBroadcastWithAckTimeoutAcrossNodes(t *testing.T, opts env) {
	nodes, c := cluster3(t, opts)
	c[4].SetAckWith(nil) // c4 (node2) never answers
	start := time.Now()
	res, err := nodes[0].srv.Timeout(500*time.Millisecond).EmitWithAck(context.Background(), "ask")
	if !errors.Is(err, sockio.ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if got := ackNames(t, res); !slices.Equal(got, []string{"c0", "c1", "c2", "c3", "c5"}) {
		t.Errorf("answers %v", got)
	}
}

func ackNames(t *testing.T, res []sockio.Args) []string {
	t.Helper()
	var out []string
	for _, a := range res {
		var s string
		if err := a.Decode(0, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestFetchSocketsAcrossNodes(t *testing.T) { forModes(t, testFetchSocketsAcrossNodes) }

func testFetchSocketsAcrossNodes(t *testing.T, opts env) {
	nodes, c := cluster3(t, opts)
	ctx := context.Background()
	for i, n := range nodes {
		socks, err := n.srv.FetchSockets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(socks) != 6 {
			t.Fatalf("node%d: %d sockets", i, len(socks))
		}
		byID := map[string]*sockio.RemoteSocket{}
		for _, s := range socks {
			byID[s.ID] = s
		}
		for j, cl := range c {
			s := byID[cl.SID]
			if s == nil {
				t.Fatalf("node%d: c%d missing", i, j)
			}
			data, _ := s.Data.(map[string]any)
			if data["name"] != cl.Name || data["node"] != fmt.Sprintf("node%d", j/2) {
				t.Errorf("node%d: c%d data %#v", i, j, s.Data)
			}
			if s.Handshake == nil || s.Handshake.Query.Get("name") != cl.Name || s.Handshake.Headers.Get("X-Client-Name") != cl.Name {
				t.Errorf("node%d: c%d handshake %+v", i, j, s.Handshake)
			}
			if s.Handshake.Auth["name"] != cl.Name || time.Since(s.Handshake.Time) > time.Minute {
				t.Errorf("node%d: c%d auth %v time %v", i, j, s.Handshake.Auth, s.Handshake.Time)
			}
			if !slices.Contains(s.Rooms, cl.SID) {
				t.Errorf("node%d: c%d rooms %v", i, j, s.Rooms)
			}
		}
		if r := byID[c[3].SID].Rooms; !slices.Contains(r, "r") || !slices.Contains(r, "q") {
			t.Errorf("c3 rooms %v", r)
		}
	}
	socks, err := nodes[1].srv.In("q").Except("r").FetchSockets(ctx)
	if err != nil || len(socks) != 1 || socks[0].ID != c[4].SID {
		t.Fatalf("q except r: %v %v", socks, err)
	}
	// A fetched remote socket can be used.
	socks[0].Emit("hello-remote", 42)
	receivers(t, c, "hello-remote", 4)
	socks[0].Join("joined-remotely")
	testkit.Eventually(t, 5*time.Second, func() error {
		s, err := nodes[0].srv.In("joined-remotely").FetchSockets(ctx)
		if err != nil || len(s) != 1 {
			return fmt.Errorf("joined-remotely: %d sockets, %v", len(s), err)
		}
		return nil
	})
	// Local.
	socks, err = nodes[2].srv.Local().FetchSockets(ctx)
	if err != nil || len(socks) != 2 {
		t.Fatalf("local: %d, %v", len(socks), err)
	}
}

func TestSocketsJoinLeaveAcrossNodes(t *testing.T) { forModes(t, testSocketsJoinLeaveAcrossNodes) }

func testSocketsJoinLeaveAcrossNodes(t *testing.T, opts env) {
	nodes, c := cluster3(t, opts)
	nodes[0].srv.In("q").SocketsJoin("vip")
	testkit.Eventually(t, 5*time.Second, func() error { return roomIs(nodes[1], "vip", c[3], c[4]) })
	waitRoomSubscriptions(t, nodes)
	_ = nodes[0].srv.To("vip").Emit("vip")
	receivers(t, c, "vip", 3, 4)

	nodes[2].srv.In("r").SocketsLeave("q")
	testkit.Eventually(t, 5*time.Second, func() error { return roomIs(nodes[0], "q", c[4]) })

	nodes[1].srv.SocketsJoin("everyone")
	testkit.Eventually(t, 5*time.Second, func() error { return roomIs(nodes[2], "everyone", c...) })
	nodes[1].srv.Except("r").SocketsLeave("everyone")
	testkit.Eventually(t, 5*time.Second, func() error { return roomIs(nodes[2], "everyone", c[0], c[3]) })
}

// roomIs checks, from node n, which sockets are in room.
func roomIs(n *node, room string, want ...*testkit.Client) error {
	socks, err := n.srv.In(room).FetchSockets(context.Background())
	if err != nil {
		return err
	}
	var got, exp []string
	for _, s := range socks {
		got = append(got, s.ID)
	}
	for _, c := range want {
		exp = append(exp, c.SID)
	}
	sort.Strings(got)
	sort.Strings(exp)
	if !slices.Equal(got, exp) {
		return fmt.Errorf("room %s: %v, want %v", room, got, exp)
	}
	return nil
}

func TestDisconnectSocketsAcrossNodes(t *testing.T) { forModes(t, testDisconnectSocketsAcrossNodes) }

func testDisconnectSocketsAcrossNodes(t *testing.T, opts env) {
	nodes, c := cluster3(t, opts)
	nodes[1].srv.In("r").DisconnectSockets(false)
	receivers(t, c, testkit.DisconnectEvent, 0, 3)
	testkit.Eventually(t, 5*time.Second, func() error {
		socks, err := nodes[2].srv.FetchSockets(context.Background())
		if err != nil || len(socks) != 4 {
			return fmt.Errorf("%d sockets left, %v", len(socks), err)
		}
		return nil
	})
	nodes[0].srv.DisconnectSockets(true)
	receivers(t, c, testkit.DisconnectEvent, 1, 2, 4, 5)
}

func TestServerSideEmitAcrossNodes(t *testing.T) { forModes(t, testServerSideEmitAcrossNodes) }

func testServerSideEmitAcrossNodes(t *testing.T, opts env) {
	nodes, _ := cluster3(t, opts)
	_ = nodes[0].srv.ServerSideEmit("hello", "a", 1, map[string]any{"b": true})
	for _, n := range nodes[1:] {
		testkit.Eventually(t, 5*time.Second, func() error {
			if ev := n.serverEvents(); !slices.Equal(ev, []string{`hello "a" 1 {"b":true}`}) {
				return fmt.Errorf("%s: events %q", n.name, ev)
			}
			return nil
		})
	}
	if ev := nodes[0].serverEvents(); len(ev) != 0 {
		t.Errorf("sender got its own event: %q", ev)
	}

	done := make(chan struct{})
	_ = nodes[1].srv.ServerSideEmit("ping", 7, func(err error, res []sockio.Args) {
		defer close(done)
		if err != nil {
			t.Error(err)
		}
		if got := ackNames(t, res); !slices.Equal(got, []string{"node0:ping", "node2:ping"}) {
			t.Errorf("answers %v", got)
		}
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
}

func TestServerCountAndAllRooms(t *testing.T) { forModes(t, testServerCountAndAllRooms) }

func testServerCountAndAllRooms(t *testing.T, opts env) {
	nodes, c := cluster3(t, opts)
	ctx := context.Background()
	for _, n := range nodes {
		if got, err := n.srv.Of("/").ServerCount(ctx); err != nil || got != 3 {
			t.Errorf("%s: server count %d, %v", n.name, got, err)
		}
	}
	rooms, err := nodes[0].adapter().AllRooms(ctx)
	if opts.Sharded {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("sharded AllRooms: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"q", "r"}
	for _, cl := range c {
		want = append(want, cl.SID)
	}
	sort.Strings(want)
	if !slices.Equal(rooms, want) {
		t.Errorf("rooms %v, want %v", rooms, want)
	}
}

// A namespace other than "/" is a channel of its own.
func TestNamespacesAcrossNodes(t *testing.T) { forModes(t, testNamespacesAcrossNodes) }

func testNamespacesAcrossNodes(t *testing.T, opts env) {
	nodes := startCluster(t, 2, opts)
	for _, n := range nodes {
		_ = n.srv.Of("/admin")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.srv.Of("/admin").Adapter().(*Adapter).WaitSubscribed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	admin := dialClientNsp(t, nodes[0].url(), "admin", "/admin", nil)
	root := dialClient(t, nodes[0].url(), "root", nil)
	_ = nodes[1].srv.Of("/admin").Emit("admin-only", "x")
	if ev := admin.Expect("admin-only"); ev.String() != `admin-only "x"` {
		t.Errorf("got %s", ev)
	}
	_ = nodes[1].srv.Emit("root-only")
	root.Expect("root-only")
	admin.ExpectNone(200 * time.Millisecond)
}

// scenarios are the cluster tests that also run on a Redis Cluster.
var scenarios = []struct {
	name string
	fn   func(*testing.T, env)
}{
	{"BroadcastAcrossNodes", testBroadcastAcrossNodes},
	{"SocketBroadcastAcrossNodes", testSocketBroadcastAcrossNodes},
	{"BroadcastWithAckAcrossNodes", testBroadcastWithAckAcrossNodes},
	{"BroadcastWithAckTimeoutAcrossNodes", testBroadcastWithAckTimeoutAcrossNodes},
	{"FetchSocketsAcrossNodes", testFetchSocketsAcrossNodes},
	{"SocketsJoinLeaveAcrossNodes", testSocketsJoinLeaveAcrossNodes},
	{"DisconnectSocketsAcrossNodes", testDisconnectSocketsAcrossNodes},
	{"ServerSideEmitAcrossNodes", testServerSideEmitAcrossNodes},
	{"ServerCountAndAllRooms", testServerCountAndAllRooms},
	{"NamespacesAcrossNodes", testNamespacesAcrossNodes},
}
