package adaptertest_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
	"github.com/sockio/sockio/adapter/redis"
)

// The Redis Pub/Sub adapter, classic and sharded, on the machine's Redis
// (SOCKIO_TEST_REDIS overrides it), and on a redis-server of its own for
// the restart.
func TestRedisClassic(t *testing.T) { adaptertest.Run(t, redisConfig(t, false)) }

func TestRedisSharded(t *testing.T) { adaptertest.Run(t, redisConfig(t, true)) }

func redisAddr() string {
	if a := os.Getenv("SOCKIO_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func newRedisClient(t testing.TB, addr string) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func needRedis(t *testing.T) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: redisAddr(), DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis at %s (%v): start one with redis-server --port 6379, or set SOCKIO_TEST_REDIS", redisAddr(), err)
	}
}

func redisConfig(t *testing.T, sharded bool) adaptertest.Config {
	needRedis(t)
	opts := func(key string) redis.Options {
		return redis.Options{Key: key, Sharded: sharded, RequestsTimeout: time.Second, HealthCheckInterval: time.Second}
	}
	cfg := adaptertest.Config{
		NewNode: func(t testing.TB, cluster string) sockio.AdapterFactory {
			return redis.NewAdapter(newRedisClient(t, redisAddr()), opts(cluster))
		},
		CrossProcess:    true,
		RequestsTimeout: time.Second,
		// The count is Redis' count of subscribers: a dead node's
		// connection is gone as soon as its process is.
		NodeTimeout: 5 * time.Second,
		RestartBroker: func(t *testing.T) (func() sockio.AdapterFactory, func()) {
			rs := startRedisServer(t)
			key := "sockio-at-restart"
			return func() sockio.AdapterFactory { return redis.NewAdapter(newRedisClient(t, rs.addr), opts(key)) }, rs.restart
		},
		Inject: func(t testing.TB, cluster, nsp string, payload []byte) error {
			return injectRedis(t, cluster, sharded, payload)
		},
		// Recovery stays off: Pub/Sub keeps no log, so a session cannot
		// move between nodes (adapter/redisstreams and adapter/nats can).
	}
	return cfg
}

// injectRedis publishes payload on every channel of the cluster's prefix
// that has subscribers.
func injectRedis(t testing.TB, key string, sharded bool, payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := newRedisClient(t, redisAddr())
	defer c.Close()
	var chans []string
	var err error
	if sharded {
		chans, err = c.PubSubShardChannels(ctx, key+"*").Result()
	} else {
		chans, err = c.PubSubChannels(ctx, key+"*").Result()
	}
	if err != nil {
		return err
	}
	if len(chans) == 0 {
		return fmt.Errorf("no channel of %s has subscribers", key)
	}
	for _, ch := range chans {
		if sharded {
			err = c.SPublish(ctx, ch, payload).Err()
		} else {
			err = c.Publish(ctx, ch, payload).Err()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// redisServer is a redis-server of a scenario's own, on a free port.
type redisServer struct {
	t    *testing.T
	addr string
	port string
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	rs := &redisServer{t: t, addr: "127.0.0.1:" + port, port: port}
	rs.start()
	t.Cleanup(rs.stop)
	return rs
}

func (rs *redisServer) start() {
	rs.t.Helper()
	rs.cmd = exec.Command("redis-server", "--port", rs.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := rs.cmd.Start(); err != nil {
		rs.t.Fatal(err)
	}
	rs.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(rs.cmd, rs.done)
	c := goredis.NewClient(&goredis.Options{Addr: rs.addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			rs.t.Fatalf("redis-server on %s: %v", rs.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (rs *redisServer) stop() {
	if rs.cmd == nil {
		return
	}
	_ = rs.cmd.Process.Kill()
	<-rs.done
	rs.cmd = nil
}

// restart kills the server, as a crash would, and starts it again.
func (rs *redisServer) restart() {
	rs.stop()
	time.Sleep(500 * time.Millisecond) // the nodes notice it is gone
	rs.start()
}
