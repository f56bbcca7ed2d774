package redis

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/testkit"
)

func newRedisClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	o := testkit.RedisOptions(t, addr) // SOCKIO_TEST_REDIS may be a URL
	o.DialTimeout, o.MaxRetries = time.Second, 1
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func uniqueKey(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return "sockio-test-" + name + "-" + randomID(4)
}

// node is one sockio server of a test cluster.
type node struct {
	name string
	srv  *sockio.Server
	hs   *httptest.Server
	rdb  redis.UniversalClient
	log  *testkit.LogBuffer

	mu     sync.Mutex
	events []string      // server-side events received: "name args"
	hold   chan struct{} // when set, server-side handlers wait for it before answering
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
	_ = n.rdb.Close()
}

func (n *node) serverEvents() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.events...)
}

// startNode starts a sockio server with the Redis adapter, whose sockets
// join the rooms asked with a "join" event, keep their client's name as
// data, and answer "echo".
func startNode(t testing.TB, name, addr string, opts Options) *node {
	t.Helper()
	return startNodeWith(t, name, newRedisClient(t, addr), opts)
}

// startNodeWith starts a node on a client of its own (closed with it).
func startNodeWith(t testing.TB, name string, client redis.UniversalClient, opts Options) *node {
	t.Helper()
	n := &node{name: name, rdb: client, log: &testkit.LogBuffer{}}
	if opts.Logger == nil {
		opts.Logger = debugLogger(n.log)
	}
	n.srv = sockio.NewServer(sockio.Options{Adapter: NewAdapter(n.rdb, opts)})
	n.srv.OnConnection(func(s *sockio.Socket) {
		s.SetData(map[string]any{"name": s.Handshake().Auth["name"], "node": name})
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
		hold := n.hold
		n.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if e.WantsAck() {
			_ = e.Ack(name + ":" + e.Name)
		}
	})
	n.hs = httptest.NewServer(n.srv)
	t.Cleanup(n.close)
	return n
}

// env is where a cluster test runs: its options, and how its nodes reach
// Redis (nil: the standalone Redis of redisAddr).
type env struct {
	Options
	dial func(testing.TB) redis.UniversalClient
}

// startCluster starts count nodes on one key prefix and waits until each
// sees them all.
func startCluster(t testing.TB, count int, e env) []*node {
	t.Helper()
	opts := e.Options
	if opts.Key == "" {
		opts.Key = uniqueKey(t)
	}
	nodes := make([]*node, count)
	for i := range nodes {
		var client redis.UniversalClient
		if e.dial != nil {
			client = e.dial(t)
		} else {
			client = newRedisClient(t, testkit.RedisAddr())
		}
		nodes[i] = startNodeWith(t, fmt.Sprintf("node%d", i), client, opts)
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

// debugLogger logs everything to l, for tests that check what was logged.
func debugLogger(l *testkit.LogBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
