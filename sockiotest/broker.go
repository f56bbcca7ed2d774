package sockiotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

// The brokers the tests use, and where they are by default.
const (
	RedisEnv         = "SOCKIO_TEST_REDIS"
	NATSEnv          = "SOCKIO_TEST_NATS"
	DefaultRedisAddr = "127.0.0.1:6379"
	DefaultNATSURL   = "nats://127.0.0.1:4222"
)

// RedisAddr is the Redis the tests use: SOCKIO_TEST_REDIS (host:port or
// a redis:// URL), or 127.0.0.1:6379.
func RedisAddr() string {
	if a := os.Getenv(RedisEnv); a != "" {
		return a
	}
	return DefaultRedisAddr
}

// NATSURL is the NATS server the tests use: SOCKIO_TEST_NATS, or
// nats://127.0.0.1:4222.
func NATSURL() string {
	if u := os.Getenv(NATSEnv); u != "" {
		return u
	}
	return DefaultNATSURL
}

// RedisTest is a test's view of the shared Redis: its address, a
// client, and a key prefix no other test uses.
type RedisTest struct {
	t TB
	// Addr is RedisAddr().
	Addr string
	// Prefix starts every key the test should use; the keys that start
	// with it are deleted when the test ends.
	Prefix string
	// Client is connected, and closed when the test ends.
	Client *redis.Client
}

// Redis connects to the Redis of RedisAddr. When it does not answer the
// test is skipped, or fails when the CI environment variable is set: a CI
// machine must have one.
func Redis(t TB) *RedisTest {
	t.Helper()
	r := &RedisTest{t: t, Addr: RedisAddr(), Prefix: Prefix(t)}
	o, err := redisOptions(r.Addr)
	if err != nil {
		t.Fatalf("sockiotest: %s=%q: %v", RedisEnv, r.Addr, err)
	}
	o.DialTimeout, o.MaxRetries = time.Second, -1
	c := redis.NewClient(o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(t, "no Redis at %s (%v): start redis-server --port 6379, or set %s", r.Addr, err, RedisEnv)
		return nil
	}
	r.Client = c
	t.Cleanup(func() {
		r.deleteKeys()
		_ = c.Close()
	})
	return r
}

// Options are new client options for the test's Redis, to make more
// clients (one per node, say).
func (r *RedisTest) Options() *redis.Options {
	o, _ := redisOptions(r.Addr) // parsed once already, in Redis
	return o
}

// NewClient is a new client of the test's Redis, closed when the test
// ends.
func (r *RedisTest) NewClient() *redis.Client {
	o := r.Options()
	o.DialTimeout, o.MaxRetries = time.Second, 1
	c := redis.NewClient(o)
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

// deleteKeys removes the test's keys, scanning a bounded number of times
// (a test that wrote millions of keys leaves the rest to Redis' TTLs).
func (r *RedisTest) deleteKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var cursor uint64
	for range 1000 {
		keys, next, err := r.Client.Scan(ctx, cursor, r.Prefix+"*", 1000).Result()
		if err != nil {
			return
		}
		if len(keys) > 0 {
			r.Client.Del(ctx, keys...)
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}

// RedisOptions are client options for addr, a redis:// URL or host:port.
func RedisOptions(addr string) (*redis.Options, error) { return redisOptions(addr) }

func redisOptions(addr string) (*redis.Options, error) {
	if strings.Contains(addr, "://") {
		return redis.ParseURL(addr)
	}
	return &redis.Options{Addr: addr}, nil
}

// NATSTest is a test's view of the shared NATS server: its URL, a
// connection, and a prefix for subjects and stream names no other test
// uses.
type NATSTest struct {
	// URL is NATSURL().
	URL string
	// Prefix is letters, digits, '_' and '-': it fits a subject token and
	// a stream name. The JetStream streams whose names start with it are
	// deleted when the test ends.
	Prefix string
	// Conn is connected, and closed when the test ends.
	Conn *natsgo.Conn
}

// NATS connects to the NATS server of NATSURL. When it does not answer the
// test is skipped, or fails when the CI environment variable is set.
func NATS(t TB) *NATSTest {
	t.Helper()
	n := &NATSTest{URL: NATSURL(), Prefix: Prefix(t)}
	nc, err := natsgo.Connect(n.URL, natsgo.Timeout(2*time.Second))
	if err != nil {
		unavailable(t, "no NATS at %s (%v): start nats-server -js, or set %s", n.URL, err, NATSEnv)
		return nil
	}
	n.Conn = nc
	t.Cleanup(func() {
		n.deleteStreams()
		nc.Close()
	})
	return n
}

// deleteStreams removes the test's JetStream streams, if the server has
// JetStream.
func (n *NATSTest) deleteStreams() {
	js, err := jetstream.New(n.Conn)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	names := js.StreamNames(ctx)
	var mine []string
	for name := range names.Name() {
		if strings.HasPrefix(name, n.Prefix) {
			mine = append(mine, name)
		}
	}
	for _, name := range mine {
		_ = js.DeleteStream(ctx, name)
	}
}

// unavailable skips the test, or fails it on CI.
func unavailable(t TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("sockiotest: "+format+" (CI is set: the brokers must be there)", args...)
		return
	}
	t.Skipf("sockiotest: "+format, args...)
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Prefix is a name no other test (nor another run of this one) uses:
// "sockiotest_", the test's name with anything but letters, digits, '_'
// and '-' replaced, and 8 random hex digits.
func Prefix(t TB) string {
	name := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[:60]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "sockiotest_" + name + "_" + hex.EncodeToString(b)
}
