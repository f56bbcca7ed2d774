package redisstreams_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
	"github.com/sockio/sockio/adapter/redisstreams"
)

// The Redis Streams adapter runs the scenario suite every adapter runs,
// recovery across nodes included.
func TestSuite(t *testing.T) { adaptertest.Run(t, suiteConfig(t)) }

func suiteAddr() string {
	if a := os.Getenv("SOCKIO_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func suiteClient(t testing.TB, addr string) *goredis.Client {
	var o *goredis.Options
	if u, err := goredis.ParseURL(addr); err == nil {
		o = u
	} else {
		o = &goredis.Options{Addr: addr}
	}
	o.DialTimeout, o.MaxRetries = time.Second, 1
	c := goredis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func suiteOptions(cluster string) redisstreams.Options {
	return redisstreams.Options{StreamName: cluster, ChannelPrefix: cluster, SessionKeyPrefix: cluster + ":session:",
		BlockTime: time.Second, RequestsTimeout: time.Second, Logger: discard}
}

func suiteConfig(t *testing.T) adaptertest.Config {
	probe := suiteClient(t, suiteAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := probe.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis at %s (%v): start one, or set SOCKIO_TEST_REDIS", suiteAddr(), err)
	}
	return adaptertest.Config{
		NewNode: func(t testing.TB, cluster string) sockio.AdapterFactory {
			c := suiteClient(t, suiteAddr())
			if os.Getenv("SOCKIO_ADAPTERTEST_CHILD") == "" {
				t.Cleanup(func() { dropKeys(suiteAddr(), cluster) })
			}
			return redisstreams.NewAdapter(c, suiteOptions(cluster))
		},
		Recovery:        true,
		CrossProcess:    true,
		RequestsTimeout: time.Second,
		// The count is Redis' count of subscribers (as the reference's):
		// a dead node's connection is gone with its process.
		NodeTimeout: 5 * time.Second,
		RestartBroker: func(t *testing.T) (func() sockio.AdapterFactory, func()) {
			rs := startRedisServer(t)
			return func() sockio.AdapterFactory {
				return redisstreams.NewAdapter(suiteClient(t, rs.addr), suiteOptions("sockio-at-restart"))
			}, rs.restart
		},
		Inject: inject,
		Hostile: [][]byte{
			[]byte("{\"packet\":"), []byte("gqZwYWNrZXQ="), []byte("\xdf\xff\xff\xff\xff"),
		},
	}
}

// inject puts payload wherever the nodes listen: as the data of a
// broadcast entry on the stream, and as is on every Pub/Sub channel of the
// cluster.
func inject(t testing.TB, cluster, nsp string, payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := suiteClient(t, suiteAddr())
	defer c.Close()
	err := c.XAdd(ctx, &goredis.XAddArgs{Stream: cluster, Values: []string{
		"uid", "hostile", "nsp", nsp, "type", "3", "data", string(payload)}}).Err()
	if err != nil {
		return err
	}
	chans, err := c.PubSubChannels(ctx, cluster+"*").Result()
	if err != nil {
		return err
	}
	if len(chans) == 0 {
		return fmt.Errorf("no channel of %s has subscribers", cluster)
	}
	for _, ch := range chans {
		if err := c.Publish(ctx, ch, payload).Err(); err != nil {
			return err
		}
	}
	return nil
}

func dropKeys(addr, prefix string) {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if keys, _ := c.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

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
	for deadline := time.Now().Add(10 * time.Second); ; {
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

func (rs *redisServer) restart() {
	rs.stop()
	time.Sleep(500 * time.Millisecond)
	rs.start()
}
