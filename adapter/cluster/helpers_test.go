package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/internal/notepack"
)

// node is one sockio server of a test cluster on a broker.
type node struct {
	name string
	srv  *sockio.Server
	hs   *httptest.Server
	log  *testkit.LogBuffer

	mu     sync.Mutex
	events []string // server-side events received: "name args"
	closed bool
}

func (n *node) adapter() *Adapter { return n.srv.Of("/").Adapter().(*Adapter) }

func (n *node) url() string { return n.hs.URL }

func (n *node) close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.srv.Close(ctx)
	n.hs.Close()
}

func (n *node) serverEvents() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.events...)
}

// fastHeartbeats make the live-node list react within a test's patience.
var fastHeartbeats = Options{HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: 300 * time.Millisecond}

// startNode starts a sockio server on broker b, whose sockets join the
// rooms asked with a "join" event, keep their client's name as data, and
// answer "echo". recovery turns connection-state recovery on.
func startNode(t testing.TB, name string, b Broker, opts Options, recovery bool) *node {
	t.Helper()
	n := &node{name: name, log: &testkit.LogBuffer{}}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(n.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	so := sockio.Options{Adapter: NewAdapter(b, opts)}
	if recovery {
		so.ConnectionStateRecovery = &sockio.RecoveryOptions{MaxDisconnectionDuration: time.Minute}
	}
	n.srv = sockio.NewServer(so)
	n.srv.OnConnection(func(s *sockio.Socket) {
		if !s.Recovered() {
			s.SetData(map[string]any{"name": s.Handshake().Auth["name"], "node": name})
		}
		s.On("join", func(room string) { s.Join(room) })
		s.On("leave", func(room string) { s.Leave(room) })
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
	})
	n.srv.Of("/").OnServerSideEmit(func(e *sockio.Event) {
		var parts []string
		for i := range e.Args.Len() {
			parts = append(parts, string(e.Args.Raw(i)))
		}
		n.mu.Lock()
		n.events = append(n.events, strings.TrimSpace(e.Name+" "+strings.Join(parts, " ")))
		n.mu.Unlock()
		if e.WantsAck() {
			_ = e.Ack(name + ":" + e.Name)
		}
	})
	n.hs = httptest.NewUnstartedServer(n.srv)
	n.hs.Config.ReadHeaderTimeout = sockio.DefaultReadHeaderTimeout
	n.hs.Config.IdleTimeout = sockio.DefaultIdleTimeout
	n.hs.Start()
	t.Cleanup(n.close)
	return n
}

// startCluster starts count nodes on b and waits until each sees them all.
func startCluster(t testing.TB, b Broker, count int, opts Options, recovery bool) []*node {
	t.Helper()
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = startNode(t, fmt.Sprintf("node%d", i), b, opts, recovery)
	}
	waitCluster(t, nodes, count)
	return nodes
}

// waitCluster waits until every node's "/" is subscribed and counts want
// servers.
func waitCluster(t testing.TB, nodes []*node, want int) {
	t.Helper()
	list := make([]testkit.ClusterNode, len(nodes))
	for i, n := range nodes {
		list[i] = testkit.ClusterNode{Name: n.name, Server: n.srv, WaitSubscribed: n.adapter().WaitSubscribed, Log: n.log}
	}
	testkit.WaitCluster(t, list, want)
}

// dialClient connects a client named name to "/"; auth may add pid and
// offset to recover a session.
func dialClient(t testing.TB, baseURL, name string, auth map[string]string, ackWith func(testkit.Event) []any) *testkit.Client {
	t.Helper()
	return testkit.Dial(t, baseURL, name, "/", auth, ackWith)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func itoa(n int) string { return strconv.Itoa(n) }

func decodeValue(b []byte) (any, error) { return notepack.Unmarshal(b) }
