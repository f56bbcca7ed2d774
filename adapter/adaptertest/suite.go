package adaptertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio"
)

// scenario is one t.Run of the suite.
type scenario struct {
	name string
	// multi: needs several nodes (skipped with SingleNode).
	multi bool
	run   func(h *harness)
}

// scenarios are run in this order; see each one's function for what it
// proves.
var scenarios = []scenario{
	{"Broadcast", false, testBroadcast},
	{"BroadcastWithAck", false, testBroadcastWithAck},
	{"FetchSockets", false, testFetchSockets},
	{"SocketsJoinLeave", false, testSocketsJoinLeave},
	{"DisconnectSockets", false, testDisconnectSockets},
	{"ServerSideEmit", false, testServerSideEmit},
	{"ServerCount", false, testServerCount},
	{"NodeClosed", true, testNodeClosed},
	{"NodeKilledMidRequest", true, testNodeKilled},
	{"NodeFrozenMidRequest", true, testNodeFrozen},
	{"BrokerRestart", true, testBrokerRestart},
	{"HostileMessages", false, testHostile},
	{"Recovery", false, testRecovery},
}

// Run runs every scenario on the adapter cfg describes, each as a subtest.
func Run(t *testing.T, cfg Config) {
	if cfg.NewNode == nil {
		t.Fatal("adaptertest: Config.NewNode is required")
	}
	cfg = cfg.withDefaults()
	if env := os.Getenv(childEnv); env != "" {
		var spec childSpec
		if err := json.Unmarshal([]byte(env), &spec); err != nil {
			t.Fatalf("adaptertest: %s: %v", childEnv, err)
		}
		if spec.Test != t.Name() {
			t.Skipf("adaptertest: a child node of %s", spec.Test)
		}
		runChild(t, cfg, spec)
		return
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			h := newHarness(t, cfg)
			h.skipIfNamed()
			if s.multi && cfg.SingleNode {
				t.Skip("needs several nodes; the adapter is single-node")
			}
			checkGoroutines(t)
			s.run(h)
		})
	}
}

// harness is one scenario's cluster: its name, nodes and clients.
type harness struct {
	t        *testing.T
	cfg      Config
	cluster  string
	recovery bool                         // nodes started from now on recover sessions
	factory  func() sockio.AdapterFactory // nil: cfg.NewNode(t, cluster)
	nodes    []*node
}

func newHarness(t *testing.T, cfg Config) *harness {
	return &harness{t: t, cfg: cfg, cluster: clusterName()}
}

// clusterName is unique per scenario and short: adapters use it as a
// key or subject prefix.
func clusterName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sockio-at-" + hex.EncodeToString(b[:])
}

// sub runs fn as a subtest on a harness of its own (a fresh cluster).
func (h *harness) sub(name string, fn func(h *harness)) {
	h.t.Run(name, func(t *testing.T) {
		s := newHarness(t, h.cfg)
		s.recovery, s.factory = h.recovery, h.factory
		s.skipIfNamed()
		fn(s)
	})
}

// skipIfNamed skips the test when Config.Skip names it.
func (h *harness) skipIfNamed() {
	_, rel, _ := strings.Cut(h.t.Name(), "/")
	if reason, ok := h.cfg.Skip[rel]; ok {
		h.t.Skip(reason)
	}
}

// nodeCount is how many nodes the common scenarios use.
func (h *harness) nodeCount() int {
	if h.cfg.SingleNode {
		return 1
	}
	return 3
}

// startNode starts one more node of the cluster in this process.
func (h *harness) startNode() *node {
	h.t.Helper()
	var f sockio.AdapterFactory
	if h.factory != nil {
		f = h.factory()
	} else {
		f = h.cfg.NewNode(h.t, h.cluster)
	}
	n := startLocal(fmt.Sprintf("node%d", len(h.nodes)), f, h.recovery, false)
	h.t.Cleanup(n.close)
	h.nodes = append(h.nodes, n)
	return n
}

// startNodes starts count nodes and waits until each counts them all.
func (h *harness) startNodes(count int) []*node {
	h.t.Helper()
	for range count {
		h.startNode()
	}
	h.waitServerCount(h.nodes, len(h.nodes))
	return h.nodes
}

// waitServerCount waits until every in-process node of nodes counts want.
func (h *harness) waitServerCount(nodes []*node, want int) {
	h.t.Helper()
	for _, n := range nodes {
		if n.srv == nil {
			continue
		}
		h.eventually(h.cfg.NodeTimeout+eventTimeout, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), h.cfg.requestBound())
			defer cancel()
			got, err := n.srv.Of("/").ServerCount(ctx)
			if err != nil {
				return fmt.Errorf("%s: server count: %w", n.name, err)
			}
			if got != want {
				return fmt.Errorf("%s: server count %d, want %d", n.name, got, want)
			}
			return nil
		})
	}
}

// eventually retries check until it passes, failing the test with its
// last error after timeout.
func (h *harness) eventually(timeout time.Duration, check func() error) {
	h.t.Helper()
	if err := waitFor(timeout, check); err != nil {
		h.t.Fatal(err)
	}
}

// waitFor retries check every 20ms until it passes or timeout ends.
func waitFor(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkGoroutines fails the test if, once everything registered after it
// is cleaned up, more goroutines run than before it.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		err := waitFor(10*time.Second, func() error {
			if now := runtime.NumGoroutine(); now > before {
				return fmt.Errorf("goroutines: %d before, %d after the scenario", before, now)
			}
			return nil
		})
		if err != nil {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%v\n%s", err, buf)
		}
	})
}

// world is the common setup: nodes, and two clients per node (all on the
// one node with SingleNode): c0,c1 on node0, c2,c3 on node1, c4,c5 on
// node2. c0 and c3 are in room "r", c3 and c4 in room "q".
type world struct {
	nodes   []*node
	clients []*client
	home    []int // clients[i] is on nodes[home[i]]
}

func (h *harness) world() *world {
	h.t.Helper()
	w := &world{nodes: h.startNodes(h.nodeCount())}
	for i := range 6 {
		home := (i / 2) % len(w.nodes)
		w.home = append(w.home, home)
		w.clients = append(w.clients, dial(h.t, w.nodes[home].url, fmt.Sprintf("c%d", i), h.recovery))
	}
	h.join(w, w.clients[0], "r")
	h.join(w, w.clients[3], "r", "q")
	h.join(w, w.clients[4], "q")
	h.sync(w, "", w.clients...)
	h.sync(w, "r", w.clients[0], w.clients[3])
	h.sync(w, "q", w.clients[3], w.clients[4])
	return w
}

// join makes c join rooms through its own socket and waits until its
// node has it there.
func (h *harness) join(w *world, c *client, rooms ...string) {
	h.t.Helper()
	for _, r := range rooms {
		c.emit("join", r)
	}
	n := w.nodes[w.home[slices.Index(w.clients, c)]]
	h.eventually(eventTimeout, func() error {
		s := n.srv.Of("/").Socket(c.ID())
		if s == nil {
			return fmt.Errorf("%s: no socket %s", n.name, c.ID())
		}
		for _, r := range rooms {
			if !slices.Contains(s.Rooms(), r) {
				return fmt.Errorf("%s: socket %s not in %s yet", n.name, c.name, r)
			}
		}
		return nil
	})
}

// syncEvent is the event of the suite's probes; scenarios never wait for it.
const syncEvent = "(adaptertest sync)"

// sync waits until a broadcast to room ("" for all) from every
// in-process node reaches every member: a broker may make a node's
// subscriptions (a namespace's, a room's) effective a little after the
// join or the start, and a scenario must not mistake that for a loss.
func (h *harness) sync(w *world, room string, members ...*client) {
	h.t.Helper()
	round := 0
	h.eventually(eventTimeout+h.cfg.NodeTimeout, func() error {
		round++
		var want []string
		for i, n := range w.nodes {
			if n.srv == nil {
				continue
			}
			token := fmt.Sprintf("%d-%d", round, i)
			want = append(want, token)
			op := n.srv.Of("/").To()
			if room != "" {
				op = op.To(room)
			}
			_ = op.Emit(syncEvent, token)
		}
		for _, c := range members {
			got := map[string]bool{}
			for len(got) < len(want) {
				ev, err := c.next(syncEvent, 500*time.Millisecond)
				if err != nil {
					return fmt.Errorf("room %q: %s got %d of the %d probes: %w", room, c.name, len(got), len(want), err)
				}
				var tok string
				ev.Arg(h.t, 0, &tok)
				if slices.Contains(want, tok) {
					got[tok] = true
				}
			}
		}
		return nil
	})
}

// receivers checks that exactly the clients of index want get event
// (once), and returns what they got.
func (h *harness) receivers(w *world, name string, want ...int) []event {
	h.t.Helper()
	var got []event
	for i, c := range w.clients {
		if slices.Contains(want, i) {
			got = append(got, c.expect(name))
		}
	}
	// What the others would get has had the time to arrive: a sync
	// broadcast after it, from every node, reached them all.
	h.sync(w, "", w.clients...)
	for i, c := range w.clients {
		if n := c.pending(name); n > 0 {
			if slices.Contains(want, i) {
				h.t.Errorf("%s got %q %d more times", c.name, name, n)
			} else {
				h.t.Errorf("%s got %q, not meant for it", c.name, name)
			}
		}
	}
	return got
}

// on returns the indexes of the clients on node i.
func (w *world) on(i int) []int {
	var out []int
	for c, home := range w.home {
		if home == i {
			out = append(out, c)
		}
	}
	return out
}

// ids returns the sorted socket ids of clients.
func ids(clients ...*client) []string {
	var out []string
	for _, c := range clients {
		out = append(out, c.ID())
	}
	sort.Strings(out)
	return out
}

// socketIDs returns the sorted ids of sockets.
func socketIDs(socks []*sockio.RemoteSocket) []string {
	var out []string
	for _, s := range socks {
		out = append(out, s.ID)
	}
	sort.Strings(out)
	return out
}
