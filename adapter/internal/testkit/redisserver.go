package testkit

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server of a test's own, on a free port, for the
// tests that stop and restart their broker.
type RedisServer struct {
	t    testing.TB
	Port int
	// Args are more redis-server arguments, read by Start.
	Args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// NewRedisServer reserves a port (Start runs redis-server on it) and
// stops the server when the test ends; it skips the test when
// redis-server is not installed.
func NewRedisServer(t testing.TB, args ...string) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	r := &RedisServer{t: t, Port: FreePort(t), Args: args}
	t.Cleanup(r.Stop)
	return r
}

// StartRedisServer is NewRedisServer, started.
func StartRedisServer(t testing.TB, args ...string) *RedisServer {
	t.Helper()
	r := NewRedisServer(t, args...)
	r.Start()
	return r
}

// Addr is the server's host:port.
func (r *RedisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.Port) }

// Start runs the server (without persistence unless Args ask for it) and
// waits until it answers.
func (r *RedisServer) Start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--loglevel", "warning"}, r.Args...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
	defer c.Close()
	Eventually(r.t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Ping(ctx).Err()
	})
}

// Stop kills the server, as a crash would, and waits for it.
func (r *RedisServer) Stop() { r.StopWith(os.Kill) }

// StopWith ends the server with sig (SIGTERM: Redis' own shutdown) and
// waits for it.
func (r *RedisServer) StopWith(sig os.Signal) {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.t.Errorf("redis-server %d did not exit", r.Port)
	}
	r.cmd = nil
}

// Restart kills the server and starts it again, half a second later so
// that its clients notice it was gone.
func (r *RedisServer) Restart() {
	r.Stop()
	time.Sleep(500 * time.Millisecond)
	r.Start()
}
