package redis

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
)

// The tests use the Redis on 127.0.0.1:6379 (SOCKIO_TEST_REDIS overrides
// it), each with its own key prefix so runs never meet; the fault tests
// start their own redis-server on a free port.
func redisAddr() string {
	if a := os.Getenv("SOCKIO_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func newRedisClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// needRedis skips the test when no Redis answers.
func needRedis(t testing.TB) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redisAddr(), DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis at %s (%v): start one with redis-server --port 6379, or set SOCKIO_TEST_REDIS", redisAddr(), err)
	}
}

func uniqueKey(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return "sockio-test-" + name + "-" + randomID(4)
}

// logBuffer collects log lines for tests that check what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// node is one sockio server of a test cluster.
type node struct {
	name string
	srv  *sockio.Server
	hs   *httptest.Server
	rdb  redis.UniversalClient
	log  *logBuffer

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
	n := &node{name: name, rdb: client, log: &logBuffer{}}
	if opts.Logger == nil {
		opts.Logger = n.log.logger()
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
			client = newRedisClient(t, redisAddr())
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.adapter().WaitSubscribed(ctx); err != nil {
			t.Fatalf("%s: not subscribed: %v\nlog:\n%s", n.name, err, n.log)
		}
	}
	for _, n := range nodes {
		eventually(t, 10*time.Second, func() error {
			got, err := n.srv.Of("/").ServerCount(ctx)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s: server count %d, want %d", n.name, got, want)
			}
			return nil
		})
	}
}

// eventually retries check every 20ms until it passes or timeout ends.
func eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkGoroutines fails if, once everything registered before it is
// cleaned up, more goroutines run than before the test.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			now := runtime.NumGoroutine()
			if now <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after close\n%s", before, now, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// redisServer is a redis-server of a test's own, on a free port.
type redisServer struct {
	t     testing.TB
	port  int
	extra []string // more redis-server arguments
	cmd   *exec.Cmd
	done  chan struct{}
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// freePort finds a port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newRedisServer reserves a port; start runs redis-server on it.
func newRedisServer(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	r := &redisServer{t: t, port: freePort(t)}
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning"}, r.extra...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	eventually(r.t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Ping(ctx).Err()
	})
}

// stop kills the server (as a crash would) and waits for it.
func (r *redisServer) stop() { r.stopWith(os.Kill) }

// stopWith ends the server with sig (SIGTERM: Redis' own shutdown) and
// waits for it.
func (r *redisServer) stopWith(sig os.Signal) {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.t.Errorf("redis-server %d did not exit", r.port)
	}
	r.cmd = nil
}
