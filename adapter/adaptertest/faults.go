package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sockio/sockio"
)

// testNodeClosed: a node that closes cleanly leaves the cluster: its
// clients are disconnected, its sockets are gone from the others'
// fetchSockets, serverCount drops, and the rest goes on.
func testNodeClosed(h *harness) {
	w := h.world()
	last := w.nodes[2]
	last.close()
	for _, i := range w.on(2) {
		c := w.clients[i]
		h.eventually(eventTimeout, func() error {
			select {
			case <-c.Done():
				return nil
			default:
				return fmt.Errorf("%s: still connected to the closed node", c.name)
			}
		})
	}
	live := w.clients[:4]
	for _, n := range w.nodes[:2] {
		h.eventually(h.cfg.NodeTimeout+eventTimeout, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), h.cfg.requestBound())
			defer cancel()
			socks, err := n.srv.FetchSockets(ctx)
			if err != nil {
				return fmt.Errorf("%s: fetchSockets: %w", n.name, err)
			}
			if got, want := socketIDs(socks), ids(live...); !slices.Equal(got, want) {
				return fmt.Errorf("%s: fetchSockets %v, want %v", n.name, got, want)
			}
			return nil
		})
	}
	h.waitServerCount(w.nodes[:2], 2)
	w.clients = live
	w.nodes = w.nodes[:2]
	_ = w.nodes[1].srv.Emit("after-close")
	h.receivers(w, "after-close", 0, 1, 2, 3)
}

// killWorld is two nodes in this process and a third in a child process,
// one client on each.
func (h *harness) killWorld() (*world, *node) {
	h.t.Helper()
	if !h.cfg.CrossProcess {
		h.t.Skip("needs a node in a child process (Config.CrossProcess)")
	}
	if !canSignal {
		h.t.Skip("no SIGKILL/SIGSTOP on this platform")
	}
	w := &world{nodes: h.startNodes(2)}
	ch := h.startChild("child")
	w.nodes = append(w.nodes, ch)
	h.waitServerCount(w.nodes, 3)
	for i, n := range w.nodes {
		w.clients = append(w.clients, dial(h.t, n.url, fmt.Sprintf("c%d", i), h.recovery))
		w.home = append(w.home, i)
	}
	h.sync(w, "", w.clients...)
	return w, ch
}

// requestEnds checks a request that met a dead or frozen node: it ended
// within the bound, without an error or with one wrapping
// sockio.ErrTimeout, with the answers of the live nodes.
func (h *harness) requestEnds(what string, start time.Time, err error, got, want []string) {
	h.t.Helper()
	if err != nil && !errors.Is(err, sockio.ErrTimeout) {
		h.t.Errorf("%s: err = %v, want nil or one wrapping sockio.ErrTimeout", what, err)
	}
	if d := time.Since(start); d > h.cfg.requestBound() {
		h.t.Errorf("%s: ended after %v, past the bound %v", what, d, h.cfg.requestBound())
	}
	for _, x := range want {
		if !slices.Contains(got, x) {
			h.t.Errorf("%s: got %v, lacks %s", what, got, x)
		}
	}
}

// serverSideEmitWithAck runs a serverSideEmit with an ack from n, bounded.
func (h *harness) serverSideEmitWithAck(n *node, event string) ([]string, error) {
	h.t.Helper()
	type result struct {
		err error
		res []sockio.Args
	}
	done := make(chan result, 1)
	if err := n.srv.ServerSideEmit(event, func(err error, res []sockio.Args) { done <- result{err, res} }); err != nil {
		return nil, err
	}
	select {
	case r := <-done:
		return ackNames(h, r.res), r.err
	case <-time.After(h.cfg.requestBound() + 5*time.Second):
		h.t.Fatalf("serverSideEmit %q: no answer after %v: it hangs", event, h.cfg.requestBound()+5*time.Second)
		return nil, nil
	}
}

// fetchBounded runs fetchSockets from n with a context that outlives the
// bound, so the adapter's own timeout has to end it.
func (h *harness) fetchBounded(n *node) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.requestBound()+5*time.Second)
	defer cancel()
	socks, err := n.srv.FetchSockets(ctx)
	return socketIDs(socks), err
}

// testNodeKilled: a node killed (SIGKILL) while it holds a request: the
// request ends within the adapter's timeout (an error wrapping
// sockio.ErrTimeout, or none when the adapter knew the node was gone)
// with the answers of the live nodes; later requests do too; the dead node
// leaves serverCount; broadcasts go on.
func testNodeKilled(h *harness) {
	w, ch := h.killWorld()
	a := w.nodes[0]
	type result struct {
		err error
		got []string
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		got, err := h.serverSideEmitWithAck(a, "hold")
		done <- result{err, got}
	}()
	h.eventually(eventTimeout, func() error {
		if !slices.Contains(ch.rec.list(), "hold") {
			return errors.New("the child node did not get the request")
		}
		return nil
	})
	ch.child.kill()
	r := <-done
	h.requestEnds("serverSideEmit held by a killed node", start, r.err, r.got, []string{"node1:hold"})

	start = time.Now()
	got, err := h.fetchBounded(a)
	h.requestEnds("fetchSockets after the kill", start, err, got, ids(w.clients[0], w.clients[1]))
	h.waitServerCount(w.nodes[:2], 2)
	w.nodes, w.clients = w.nodes[:2], w.clients[:2]
	_ = w.nodes[1].srv.Emit("after-kill")
	h.receivers(w, "after-kill", 0, 1)
}

// testNodeFrozen: a node frozen (SIGSTOP) mid-request answers nothing:
// fetchSockets and serverSideEmit end within the adapter's timeout with
// the live nodes' answers; once thawed the node is back in the cluster.
func testNodeFrozen(h *harness) {
	w, ch := h.killWorld()
	a := w.nodes[0]
	if err := ch.child.freeze(); err != nil {
		h.t.Fatalf("SIGSTOP: %v", err)
	}
	thawed := false
	defer func() {
		if !thawed {
			_ = ch.child.thaw()
		}
	}()
	start := time.Now()
	got, err := h.fetchBounded(a)
	h.requestEnds("fetchSockets with a frozen node", start, err, got, ids(w.clients[0], w.clients[1]))
	start = time.Now()
	names, err := h.serverSideEmitWithAck(a, "while-frozen")
	h.requestEnds("serverSideEmit with a frozen node", start, err, names, []string{"node1:while-frozen"})

	if err := ch.child.thaw(); err != nil {
		h.t.Fatalf("SIGCONT: %v", err)
	}
	thawed = true
	h.waitServerCount(w.nodes[:2], 3)
	h.sync(w, "", w.clients...)
	_ = a.srv.Emit("after-thaw")
	h.receivers(w, "after-thaw", 0, 1, 2)
	h.eventually(eventTimeout, func() error {
		socks, err := h.fetchBounded(a)
		if err != nil || !slices.Equal(socks, ids(w.clients...)) {
			return fmt.Errorf("fetchSockets after the thaw: %v, %v", socks, err)
		}
		return nil
	})
}

// testBrokerRestart: the broker stops and starts again mid-run: emits
// during the outage return (no hang), and broadcasts and requests across
// nodes resume by themselves.
func testBrokerRestart(h *harness) {
	if h.cfg.RestartBroker == nil {
		h.t.Skip("no Config.RestartBroker")
	}
	newNode, restart := h.cfg.RestartBroker(h.t)
	h.factory = newNode
	w := &world{nodes: h.startNodes(2)}
	for i, n := range w.nodes {
		w.clients = append(w.clients, dial(h.t, n.url, fmt.Sprintf("c%d", i), false))
		w.home = append(w.home, i)
	}
	h.sync(w, "", w.clients...)
	_ = w.nodes[1].srv.Emit("before")
	h.receivers(w, "before", 0, 1)

	stop := make(chan struct{})
	emitted := make(chan error, 1)
	go func() { // broadcasts keep coming while the broker is away
		defer close(emitted)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			_ = w.nodes[0].srv.Emit("during")
			if d := time.Since(start); d > 5*time.Second {
				emitted <- fmt.Errorf("an emit took %v with the broker away", d)
				return
			}
		}
	}()
	restart()
	close(stop)
	if err := <-emitted; err != nil {
		h.t.Error(err)
	}
	h.waitServerCount(w.nodes, 2)
	h.sync(w, "", w.clients...)
	for _, c := range w.clients {
		for c.pending("during") > 0 {
			_, _ = c.next("during", 0)
		}
	}
	_ = w.nodes[1].srv.Emit("after")
	h.receivers(w, "after", 0, 1)
	h.eventually(eventTimeout, func() error {
		socks, err := h.fetchBounded(w.nodes[0])
		if err != nil || !slices.Equal(socks, ids(w.clients...)) {
			return fmt.Errorf("fetchSockets after the restart: %v, %v", socks, err)
		}
		return nil
	})
}
