package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/testkit"
)

// cluster3 starts three nodes on a MemoryBroker with two clients each:
// c[0],c[1] on node0, c[2],c[3] on node1, c[4],c[5] on node2. c[0] and
// c[3] join room "r", c[3] and c[4] join room "q". Every client
// acknowledges with its name.
func cluster3(t *testing.T, opts Options) ([]*node, []*testkit.Client) {
	t.Helper()
	nodes := startCluster(t, NewMemoryBroker(), 3, opts, false)
	clients := make([]*testkit.Client, 6)
	for i := range clients {
		name := fmt.Sprintf("c%d", i)
		clients[i] = dialClient(t, nodes[i/2].url(), name, nil, func(testkit.Event) []any { return []any{name} })
	}
	clients[0].Emit("join", "r")
	clients[3].Emit("join", "r")
	clients[3].Emit("join", "q")
	clients[4].Emit("join", "q")
	waitRoom(t, nodes[0], "r", 2)
	waitRoom(t, nodes[0], "q", 2)
	return nodes, clients
}

// waitRoom waits until room has want sockets across the cluster.
func waitRoom(t *testing.T, n *node, room string, want int) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, func() error {
		op := n.srv.In(room)
		if room == "" {
			op = n.srv.Except()
		}
		socks, err := op.FetchSockets(context.Background())
		if err != nil {
			return err
		}
		if len(socks) != want {
			return fmt.Errorf("room %s has %d sockets, want %d", room, len(socks), want)
		}
		return nil
	})
}

func TestBroadcastAcrossNodes(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes, c := cluster3(t, Options{})

	if err := nodes[1].srv.Emit("all", 1); err != nil {
		t.Fatal(err)
	}
	for _, cl := range c {
		if ev := cl.Expect("all"); ev.String() != "all 1" {
			t.Errorf("%s got %s", cl.Name, ev)
		}
	}

	// Rooms and except, from a node with no member of the room.
	_ = nodes[2].srv.To("r").Emit("to-r", "x")
	_ = nodes[0].srv.To("q").Except("r").Emit("q-not-r")
	c[0].Expect("to-r")
	c[3].Expect("to-r")
	c[4].Expect("q-not-r")
	// Binary crosses as binary.
	_ = nodes[0].srv.To(c[5].SID).Emit("bin", []byte{1, 2, 3})
	if ev := c[5].Expect("bin"); len(ev.Attachments) != 1 || string(ev.Attachments[0]) != "\x01\x02\x03" {
		t.Errorf("binary broadcast arrived as %s %q", ev, ev.Attachments)
	}
	// Local stays local.
	_ = nodes[1].srv.Local().Emit("local")
	c[2].Expect("local")
	c[3].Expect("local")
	for _, i := range []int{0, 1, 4, 5} {
		c[i].ExpectNone(100 * time.Millisecond)
	}
	for _, i := range []int{1, 2} {
		c[i].ExpectNone(0)
	}
}

func TestBroadcastWithAckAcrossNodes(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes, c := cluster3(t, Options{})
	ctx := context.Background()

	res, err := nodes[0].srv.Timeout(5*time.Second).EmitWithAck(ctx, "ask")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res {
		var s string
		_ = r.Decode(0, &s)
		names = append(names, s)
	}
	slices.Sort(names)
	if want := []string{"c0", "c1", "c2", "c3", "c4", "c5"}; !slices.Equal(names, want) {
		t.Errorf("acks %v, want %v", names, want)
	}
	for _, cl := range c {
		cl.Expect("ask")
	}

	// A client that never answers: ErrTimeout with the answers so far.
	mute := dialClient(t, nodes[2].url(), "mute", nil, nil)
	waitRoom(t, nodes[0], mute.SID, 1)
	res, err = nodes[1].srv.To("q", mute.SID).Timeout(300*time.Millisecond).EmitWithAck(ctx, "ask2")
	if !errors.Is(err, sockio.ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if len(res) != 2 {
		t.Errorf("%d answers with the timeout, want 2 (c3, c4)", len(res))
	}
}

func TestFetchSocketsAcrossNodes(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes, c := cluster3(t, Options{})
	ctx := context.Background()
	all, err := nodes[0].srv.FetchSockets(ctx)
	if err != nil || len(all) != 6 {
		t.Fatalf("FetchSockets: %d sockets, %v", len(all), err)
	}
	in, err := nodes[2].srv.In("r").Except("q").FetchSockets(ctx)
	if err != nil || len(in) != 1 || in[0].ID != c[0].SID {
		t.Fatalf("In(r).Except(q): %v, %v", in, err)
	}
	rs := in[0]
	data, _ := rs.Data.(map[string]any)
	if data["name"] != "c0" || data["node"] != "node0" {
		t.Errorf("data %v", rs.Data)
	}
	if rs.Handshake == nil || rs.Handshake.Headers.Get("X-Client-Name") != "c0" || rs.Handshake.Auth["name"] != "c0" {
		t.Errorf("handshake %+v", rs.Handshake)
	}
	if !slices.Contains(rs.Rooms, "r") {
		t.Errorf("rooms %v", rs.Rooms)
	}
	// A remote socket can be driven from where it was fetched.
	if err := rs.Emit("hello", "there"); err != nil {
		t.Fatal(err)
	}
	c[0].Expect("hello")
}

func TestSocketsJoinLeaveDisconnect(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes, c := cluster3(t, Options{})
	nodes[0].srv.In("q").SocketsJoin("joined")
	waitRoom(t, nodes[1], "joined", 2)
	nodes[2].srv.In("joined").Except("r").SocketsLeave("joined")
	waitRoom(t, nodes[0], "joined", 1)
	_ = nodes[0].srv.To("joined").Emit("j")
	c[3].Expect("j")
	c[4].ExpectNone(100 * time.Millisecond)

	nodes[1].srv.In("r").DisconnectSockets(true)
	c[0].Expect(testkit.DisconnectEvent)
	c[3].Expect(testkit.DisconnectEvent)
	waitRoom(t, nodes[2], "", 4)
}

func TestServerSideEmitAcrossNodes(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes, _ := cluster3(t, Options{})
	if err := nodes[0].srv.ServerSideEmit("hi", 1, "two"); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		testkit.Eventually(t, 5*time.Second, func() error {
			if got := n.serverEvents(); !slices.Equal(got, []string{`hi 1 "two"`}) {
				return fmt.Errorf("%s got %q", n.name, got)
			}
			return nil
		})
	}
	if got := nodes[0].serverEvents(); len(got) != 0 {
		t.Errorf("the sender got its own event: %q", got)
	}

	done := make(chan []sockio.Args, 1)
	err := nodes[1].srv.ServerSideEmit("ask", func(err error, res []sockio.Args) {
		if err != nil {
			t.Error(err)
		}
		done <- res
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		var got []string
		for _, r := range res {
			var s string
			_ = r.Decode(0, &s)
			got = append(got, s)
		}
		slices.Sort(got)
		if want := []string{"node0:ask", "node2:ask"}; !slices.Equal(got, want) {
			t.Errorf("answers %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
}

func TestServerCountFromHeartbeats(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	nodes := startCluster(t, b, 3, fastHeartbeats, false)
	// A node that closes says so: the others drop it at once.
	nodes[2].close()
	waitCluster(t, nodes[:2], 2)
	// A new node is counted by everyone (INITIAL_HEARTBEAT, answered).
	n3 := startNode(t, "node3", b, fastHeartbeats, false)
	waitCluster(t, []*node{nodes[0], nodes[1], n3}, 3)
	// Heartbeats keep a quiet node alive past HeartbeatTimeout.
	time.Sleep(3 * fastHeartbeats.HeartbeatTimeout)
	waitCluster(t, []*node{nodes[0], nodes[1], n3}, 3)
	if lost := nodes[0].adapter().Stats().NodesLost; lost != 0 {
		t.Errorf("%d nodes lost while all were alive", lost)
	}
}

func TestDeadNodeDroppedMidRequest(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := newFreezer()
	opts := fastHeartbeats
	opts.RequestsTimeout = 30 * time.Second // the request must not wait for it
	nodes := startCluster(t, b, 3, opts, false)
	dialClient(t, nodes[1].url(), "alive", nil, nil)
	dialClient(t, nodes[2].url(), "frozen", nil, nil)
	waitRoom(t, nodes[0], "", 2)

	// node2 stops (as SIGSTOP would): it neither hears nor says anything.
	b.freeze(nodes[2].adapter().UID())
	start := time.Now()
	socks, err := nodes[0].srv.FetchSockets(context.Background())
	if err != nil {
		t.Fatalf("FetchSockets: %v", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("FetchSockets waited %v: it waited for the request timeout", waited)
	}
	if len(socks) != 1 || socks[0].Handshake.Auth["name"] != "alive" {
		t.Errorf("sockets %v, want the live node's one", socks)
	}
	n, _ := nodes[0].srv.Of("/").ServerCount(context.Background())
	if n != 2 {
		t.Errorf("server count %d after a node froze, want 2", n)
	}
	if lost := nodes[0].adapter().Stats().NodesLost; lost != 1 {
		t.Errorf("NodesLost %d, want 1", lost)
	}

	// A request whose nodes answer nothing fails at RequestsTimeout with
	// an error wrapping sockio.ErrTimeout, with the local part.
	b.unfreeze()
	waitCluster(t, nodes, 3)
	b.mute(nodes[1].adapter().UID())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = nodes[0].srv.FetchSockets(ctx)
	if !errors.Is(err, sockio.ErrTimeout) {
		t.Errorf("err %v, want ErrTimeout", err)
	}
	if nodes[0].adapter().Stats().IncompleteRequests == 0 {
		t.Error("incomplete request not counted")
	}
}

func TestCloseEndsEverything(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	nodes := startCluster(t, b, 2, Options{}, true)
	c := dialClient(t, nodes[0].url(), "c", nil, nil)
	waitRoom(t, nodes[1], "", 1)
	for _, n := range nodes {
		n.close()
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Error("the client's connection is still open")
	}
	b.mu.Lock()
	subs := len(b.subs)
	b.mu.Unlock()
	if subs != 0 {
		t.Errorf("%d namespaces still subscribed after close", subs)
	}
}
