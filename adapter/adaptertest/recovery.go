package adaptertest

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// testRecovery: connection-state recovery. A client that lost its
// connection comes back (through another node when there are several)
// with its socket id, rooms and data, and gets every event it missed, in
// order, once each, and none it was not meant to get. Then the same when
// its node closes cleanly, and when its node is killed (SIGKILL, a
// child process) with nothing said, Config.SessionKept after the client's
// last change.
func testRecovery(h *harness) {
	if !h.cfg.Recovery {
		h.t.Skip("the adapter does not recover sessions (Config.Recovery)")
	}
	h.recovery = true
	h.sub("ConnectionLost", func(h *harness) {
		nodes := h.startNodes(h.nodeCount())
		home, other := nodes[0], nodes[len(nodes)-1]
		h.recoverFrom(home, other, func(c *client) {
			c.drop()
			h.eventually(eventTimeout, func() error {
				if home.srv.Of("/").Socket(c.ID()) != nil {
					return fmt.Errorf("%s: still has the dropped socket", home.name)
				}
				return nil
			})
		})
	})
	h.sub("NodeClosed", func(h *harness) {
		if h.cfg.SingleNode {
			h.t.Skip("needs several nodes; the adapter is single-node")
		}
		nodes := h.startNodes(2)
		h.recoverFrom(nodes[0], nodes[1], func(*client) { nodes[0].close() })
	})
	h.sub("NodeKilled", func(h *harness) {
		if h.cfg.SingleNode {
			h.t.Skip("needs several nodes; the adapter is single-node")
		}
		if !h.cfg.CrossProcess || !canSignal {
			h.t.Skip("needs a node in a child process (Config.CrossProcess)")
		}
		nodes := h.startNodes(1)
		ch := h.startChild("child")
		h.waitServerCount(nodes, 2)
		h.recoverFrom(ch, nodes[0], func(*client) {
			// A node keeps the sessions of its connected sockets within
			// SessionKept of a change: only what it kept can be recovered.
			time.Sleep(h.cfg.SessionKept)
			ch.child.kill()
		})
	})
}

// recoverFrom connects a client to home, has it join "r" and get an
// event, ends its connection with lose, has other emit while it is away,
// reconnects it to other and checks what comes back.
func (h *harness) recoverFrom(home, other *node, lose func(c *client)) {
	h.t.Helper()
	c := dial(h.t, home.url, "rc", true)
	peer := dial(h.t, other.url, "peer", true) // in r, stays connected
	c.emit("join", "r")
	peer.emit("join", "r")
	w := &world{nodes: []*node{home, other}, clients: []*client{c, peer}, home: []int{0, 1}}
	if home == other {
		w.nodes, w.home = w.nodes[:1], []int{0, 0}
	}
	h.eventually(eventTimeout, func() error { return h.roomHas(other, "r", c, peer) })
	h.sync(w, "r", c, peer)
	_ = other.srv.To("r").Emit("before", 0)
	if ev := c.expect("before"); ev.Offset == "" {
		h.t.Fatalf("an event without an offset: %s (is recovery on?)", ev)
	}
	sid := c.ID()

	lose(c)
	// While c is away: what it must get back, and what it must not.
	for i := range 5 {
		_ = other.srv.To("r").Emit("missed", i)
	}
	_ = other.srv.Emit("missed-all", "x")
	_ = other.srv.To("elsewhere").Emit("not-for-rc")
	_ = other.srv.Except("r").Emit("not-for-rc")
	for range 5 {
		peer.expect("missed")
	}
	peer.expect("missed-all")
	// A real client waits at least half a second before it reconnects
	// (reconnectionDelay 1s, randomization 0.5): the node that lost the
	// socket has that long to store its session.
	time.Sleep(500 * time.Millisecond)

	if err := c.reconnect(other.url); err != nil {
		h.t.Fatalf("reconnect: %v", err)
	}
	if c.ID() != sid {
		h.t.Fatalf("not recovered: socket id %s, was %s", c.ID(), sid)
	}
	for i := range 5 {
		var n int
		c.expect("missed").Arg(h.t, 0, &n)
		if n != i {
			h.t.Errorf("missed event %d came as number %d", n, i)
		}
	}
	c.expect("missed-all")
	// The recovered socket is in r again, on other, with its data.
	h.eventually(eventTimeout, func() error { return h.roomHas(other, "r", c, peer) })
	socks, err := other.srv.In(sid).FetchSockets(context.Background())
	if err != nil || len(socks) != 1 {
		h.t.Fatalf("fetchSockets of the recovered socket: %d, %v", len(socks), err)
	}
	if data, _ := socks[0].Data.(map[string]any); data["name"] != "rc" || data["node"] != home.name {
		h.t.Errorf("recovered data %#v, want name rc and node %s", socks[0].Data, home.name)
	}
	_ = other.srv.To("r").Emit("after", 1)
	c.expect("after")
	// Nothing twice, nothing it was not meant for.
	w2 := &world{nodes: []*node{other}, clients: []*client{c}, home: []int{0}}
	h.sync(w2, "", c)
	for _, name := range []string{"missed", "missed-all", "not-for-rc", "before", "after"} {
		if n := c.pending(name); n > 0 {
			h.t.Errorf("after recovery: %d more %q", n, name)
		}
	}
}

// roomHas checks, from n, that room holds want (maybe among others).
func (h *harness) roomHas(n *node, room string, want ...*client) error {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.requestBound())
	defer cancel()
	socks, err := n.srv.In(room).FetchSockets(ctx)
	if err != nil {
		return fmt.Errorf("%s: fetchSockets in %s: %w", n.name, room, err)
	}
	got := socketIDs(socks)
	for _, c := range want {
		if !slices.Contains(got, c.ID()) {
			return fmt.Errorf("%s: room %s is %v, lacks %s", n.name, room, got, c.name)
		}
	}
	return nil
}
