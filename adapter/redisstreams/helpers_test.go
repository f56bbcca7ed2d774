package redisstreams

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/cluster"
)

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the restart tests make many.
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// redisOptions: SOCKIO_TEST_REDIS (a URL or host:port) or 127.0.0.1:6379.
func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	a := os.Getenv("SOCKIO_TEST_REDIS")
	if a == "" {
		a = "127.0.0.1:6379"
	}
	if strings.Contains(a, "://") {
		o, err := redis.ParseURL(a)
		if err != nil {
			t.Fatalf("SOCKIO_TEST_REDIS: %v", err)
		}
		return o
	}
	return &redis.Options{Addr: a}
}

// newClient connects to the test Redis, or skips when none answers.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	o := redisOptions(t)
	o.DialTimeout, o.MaxRetries = time.Second, 1
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis at %s (%v): start one, or set SOCKIO_TEST_REDIS", o.Addr, err)
	}
	return c
}

// testOptions names the stream, channels and session keys after the test,
// so parallel runs never meet, and deletes the keys afterwards.
func testOptions(t testing.TB, c redis.UniversalClient) Options {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := "sockio-test-" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		keys, _ := c.Keys(ctx, p+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return Options{StreamName: p, ChannelPrefix: p, SessionKeyPrefix: p + ":session:",
		BlockTime: time.Second, Logger: slog.New(slog.DiscardHandler)}
}

// recorder is a Handler that keeps what it gets.
type recorder struct {
	mu        sync.Mutex
	messages  []*cluster.Message
	offsets   []string
	responses []*cluster.Message
}

func (r *recorder) HandleMessage(m *cluster.Message, offset string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, m)
	r.offsets = append(r.offsets, offset)
}

func (r *recorder) HandleResponse(m *cluster.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.responses = append(r.responses, m)
}

func (r *recorder) snapshot() ([]*cluster.Message, []string, []*cluster.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*cluster.Message(nil), r.messages...), append([]string(nil), r.offsets...),
		append([]*cluster.Message(nil), r.responses...)
}

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

// redisServer is a redis-server of a test's own, on a free port.
type redisServer struct {
	t    testing.TB
	port int
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

func newRedisServer(t testing.TB, args ...string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &redisServer{t: t, port: port, args: args}
	t.Cleanup(r.stop)
	r.start()
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--loglevel", "warning"}, r.args...)
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

// stop kills the server, as a crash would.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.t.Errorf("redis-server %d did not exit", r.port)
	}
	r.cmd = nil
}

func msg(uid, nsp string, i int) *cluster.Message {
	return &cluster.Message{UID: uid, NSP: nsp, Type: cluster.SocketsJoin,
		Data: map[string]any{"rooms": []any{fmt.Sprint("room", i)}}}
}

func slogTo(l *logBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
