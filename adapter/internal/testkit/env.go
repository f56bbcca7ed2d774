package testkit

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
)

// RedisAddr is the Redis the tests use: SOCKIO_TEST_REDIS (host:port or a
// redis:// URL) or 127.0.0.1:6379.
func RedisAddr() string {
	if a := os.Getenv("SOCKIO_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// RedisOptions are the client options for addr, a redis:// URL or
// host:port.
func RedisOptions(t testing.TB, addr string) *redis.Options {
	t.Helper()
	if strings.Contains(addr, "://") {
		o, err := redis.ParseURL(addr)
		if err != nil {
			t.Fatalf("redis address %q: %v", addr, err)
		}
		return o
	}
	return &redis.Options{Addr: addr}
}

// NeedRedis skips the test when the Redis of RedisAddr does not answer.
func NeedRedis(t testing.TB) {
	t.Helper()
	o := RedisOptions(t, RedisAddr())
	o.DialTimeout, o.MaxRetries = time.Second, -1
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis at %s (%v): start one with redis-server --port 6379, or set SOCKIO_TEST_REDIS", RedisAddr(), err)
	}
}

// NATSURL is the NATS server the tests use: SOCKIO_TEST_NATS or
// nats://127.0.0.1:4222.
func NATSURL() string {
	if u := os.Getenv("SOCKIO_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// NeedNATS skips the test when the NATS server of NATSURL does not answer.
func NeedNATS(t testing.TB) {
	t.Helper()
	nc, err := natsgo.Connect(NATSURL(), natsgo.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("no NATS at %s (%v): start nats-server -js, or set SOCKIO_TEST_NATS", NATSURL(), err)
	}
	nc.Close()
}

// FreePort finds a loopback port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// QuietRedis silences go-redis's own log, which has a line for every
// failed dial: the tests that stop their Redis make many on purpose. Call
// it from TestMain.
func QuietRedis() { redis.SetLogger(quietLogger{}) }

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
