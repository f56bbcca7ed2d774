package testkit

import (
	"context"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/sockiotest"
)

// RedisAddr is the Redis the tests use: sockiotest.RedisAddr
// (SOCKIO_TEST_REDIS, or 127.0.0.1:6379).
func RedisAddr() string { return sockiotest.RedisAddr() }

// RedisOptions are the client options for addr, a redis:// URL or
// host:port.
func RedisOptions(t testing.TB, addr string) *redis.Options {
	t.Helper()
	o, err := sockiotest.RedisOptions(addr)
	if err != nil {
		t.Fatalf("redis address %q: %v", addr, err)
	}
	return o
}

// NeedRedis skips the test when the Redis of RedisAddr does not answer
// (fails it when CI is set): sockiotest.Redis.
func NeedRedis(t testing.TB) {
	t.Helper()
	sockiotest.Redis(t)
}

// NATSURL is the NATS server the tests use: sockiotest.NATSURL
// (SOCKIO_TEST_NATS, or nats://127.0.0.1:4222).
func NATSURL() string { return sockiotest.NATSURL() }

// NeedNATS skips the test when the NATS server of NATSURL does not answer
// (fails it when CI is set): sockiotest.NATS.
func NeedNATS(t testing.TB) {
	t.Helper()
	sockiotest.NATS(t)
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
