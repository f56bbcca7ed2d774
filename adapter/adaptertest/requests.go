package adaptertest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sockio/sockio"
)

// testFetchSockets: every node sees every socket with its id, rooms,
// data and handshake; the room, except and local selections hold; a
// fetched socket of another node can be used (emit, join).
func testFetchSockets(h *harness) {
	w := h.world()
	ctx := context.Background()
	for _, n := range w.nodes {
		socks, err := n.srv.FetchSockets(ctx)
		if err != nil {
			h.t.Fatalf("%s: fetchSockets: %v", n.name, err)
		}
		if got, want := socketIDs(socks), ids(w.clients...); !slices.Equal(got, want) {
			h.t.Fatalf("%s: fetchSockets: %v, want %v", n.name, got, want)
		}
		byID := map[string]*sockio.RemoteSocket{}
		for _, s := range socks {
			byID[s.ID] = s
		}
		for i, c := range w.clients {
			s := byID[c.ID()]
			data, _ := s.Data.(map[string]any)
			if data["name"] != c.name || data["node"] != w.nodes[w.home[i]].name {
				h.t.Errorf("%s: %s: data %#v", n.name, c.name, s.Data)
			}
			hs := s.Handshake
			if hs == nil || hs.Query.Get("name") != c.name || hs.Headers.Get("X-Client-Name") != c.name ||
				hs.Auth["name"] != c.name || time.Since(hs.Time) > 5*time.Minute || hs.Time.After(time.Now().Add(time.Minute)) {
				h.t.Errorf("%s: %s: handshake %+v", n.name, c.name, hs)
			}
			if !slices.Contains(s.Rooms, c.ID()) {
				h.t.Errorf("%s: %s: rooms %v lack its id", n.name, c.name, s.Rooms)
			}
		}
		if r := byID[w.clients[3].ID()].Rooms; !slices.Contains(r, "r") || !slices.Contains(r, "q") || len(r) != 3 {
			h.t.Errorf("%s: c3: rooms %v, want its id, r and q", n.name, r)
		}
	}
	last := w.nodes[len(w.nodes)-1]
	socks, err := w.nodes[0].srv.In("r").FetchSockets(ctx)
	if err != nil || !slices.Equal(socketIDs(socks), ids(w.clients[0], w.clients[3])) {
		h.t.Fatalf("in r: %v, %v", socketIDs(socks), err)
	}
	socks, err = last.srv.In("q").Except("r").FetchSockets(ctx)
	if err != nil || !slices.Equal(socketIDs(socks), ids(w.clients[4])) {
		h.t.Fatalf("in q except r: %v, %v", socketIDs(socks), err)
	}
	local, err := last.srv.Local().FetchSockets(ctx)
	var want []*client
	for _, i := range w.on(len(w.nodes) - 1) {
		want = append(want, w.clients[i])
	}
	if err != nil || !slices.Equal(socketIDs(local), ids(want...)) {
		h.t.Errorf("local: %v, %v", socketIDs(local), err)
	}

	// A socket fetched from another node can be used.
	c4 := socks[0]
	if err := c4.Emit("hello-remote", 42); err != nil {
		h.t.Fatalf("RemoteSocket.Emit: %v", err)
	}
	h.receivers(w, "hello-remote", 4)
	c4.Join("joined-remotely")
	h.eventually(eventTimeout, func() error { return roomIs(w.nodes[0], "joined-remotely", w.clients[4]) })
}

// roomIs checks, from node n, which sockets are in room.
func roomIs(n *node, room string, want ...*client) error {
	socks, err := n.srv.In(room).FetchSockets(context.Background())
	if err != nil {
		return fmt.Errorf("%s: fetchSockets in %s: %w", n.name, room, err)
	}
	if got, exp := socketIDs(socks), ids(want...); !slices.Equal(got, exp) {
		return fmt.Errorf("%s: room %s: %v, want %v", n.name, room, got, exp)
	}
	return nil
}

// testSocketsJoinLeave: socketsJoin and socketsLeave from any node move
// the selected sockets of every node, and broadcasts follow.
func testSocketsJoinLeave(h *harness) {
	w := h.world()
	n0, mid, last := w.nodes[0], w.nodes[len(w.nodes)/2], w.nodes[len(w.nodes)-1]
	c := w.clients

	n0.srv.In("q").SocketsJoin("vip")
	h.eventually(eventTimeout, func() error { return roomIs(mid, "vip", c[3], c[4]) })
	h.sync(w, "vip", c[3], c[4])
	_ = n0.srv.To("vip").Emit("vip")
	h.receivers(w, "vip", 3, 4)

	last.srv.In("r").SocketsLeave("q")
	h.eventually(eventTimeout, func() error { return roomIs(n0, "q", c[4]) })

	mid.srv.SocketsJoin("everyone")
	h.eventually(eventTimeout, func() error { return roomIs(last, "everyone", c...) })
	mid.srv.Except("r").SocketsLeave("everyone")
	h.eventually(eventTimeout, func() error { return roomIs(last, "everyone", c[0], c[3]) })
	h.sync(w, "everyone", c[0], c[3])
	_ = last.srv.To("everyone").Emit("still-in")
	h.receivers(w, "still-in", 0, 3)
}

// testDisconnectSockets: disconnectSockets from any node disconnects the
// selected sockets of every node, and only them.
func testDisconnectSockets(h *harness) {
	w := h.world()
	mid := w.nodes[len(w.nodes)/2]
	mid.srv.In("r").DisconnectSockets(false)
	w.clients[0].expect(disconnected)
	w.clients[3].expect(disconnected)
	rest := []*client{w.clients[1], w.clients[2], w.clients[4], w.clients[5]}
	h.sync(w, "", rest...)
	for _, c := range rest {
		if c.pending(disconnected) > 0 {
			h.t.Errorf("%s disconnected, not in r", c.name)
		}
	}
	h.eventually(eventTimeout, func() error {
		socks, err := w.nodes[len(w.nodes)-1].srv.FetchSockets(context.Background())
		if err != nil {
			return err
		}
		if got, want := socketIDs(socks), ids(rest...); !slices.Equal(got, want) {
			return fmt.Errorf("after disconnecting r: %v, want %v", got, want)
		}
		return nil
	})
	w.nodes[0].srv.DisconnectSockets(true)
	for _, c := range rest {
		c.expect(disconnected)
	}
	h.eventually(eventTimeout, func() error {
		socks, err := mid.srv.FetchSockets(context.Background())
		if err != nil || len(socks) != 0 {
			return fmt.Errorf("after disconnecting all: %v, %v", socketIDs(socks), err)
		}
		return nil
	})
}

// testServerSideEmit: an event reaches every other node once (not the
// sender); with an acknowledgement, the sender gets every other node's
// answer (none with a single node), without error.
func testServerSideEmit(h *harness) {
	nodes := h.startNodes(h.nodeCount())
	_ = nodes[0].srv.ServerSideEmit("hello", "a", 1, map[string]any{"b": true})
	for _, n := range nodes[1:] {
		h.eventually(eventTimeout, func() error {
			if ev := n.rec.list(); !slices.Equal(ev, []string{`hello "a" 1 {"b":true}`}) {
				return fmt.Errorf("%s: server-side events %q", n.name, ev)
			}
			return nil
		})
	}
	type result struct {
		err error
		res []sockio.Args
	}
	done := make(chan result, 1)
	_ = nodes[len(nodes)-1].srv.ServerSideEmit("ping", 7, func(err error, res []sockio.Args) { done <- result{err, res} })
	select {
	case r := <-done:
		if r.err != nil {
			h.t.Errorf("serverSideEmit with an ack: %v", r.err)
		}
		var want []string
		for _, n := range nodes[:len(nodes)-1] {
			want = append(want, n.name+":ping")
		}
		if got := ackNames(h, r.res); !slices.Equal(got, want) {
			h.t.Errorf("serverSideEmit with an ack: answers %v, want %v", got, want)
		}
	case <-time.After(h.cfg.requestBound()):
		h.t.Fatal("serverSideEmit with an ack: no answer")
	}
	// The sender never hears its own events.
	if ev := nodes[0].rec.list(); slices.Contains(ev, `hello "a" 1 {"b":true}`) {
		h.t.Errorf("the sender got its own event: %q", ev)
	}
	if ev := nodes[len(nodes)-1].rec.list(); slices.Contains(ev, "ping 7") {
		h.t.Errorf("the sender got its own event: %q", ev)
	}
}

// testServerCount: every node counts every node, and a node that joins
// later is counted by all.
func testServerCount(h *harness) {
	nodes := h.startNodes(h.nodeCount())
	h.waitServerCount(nodes, len(nodes))
	if h.cfg.SingleNode {
		return
	}
	h.startNode()
	h.waitServerCount(h.nodes, len(h.nodes))
}
