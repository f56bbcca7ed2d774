package redisstreams_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/adapter/redisstreams"
)

// The Redis Streams adapter runs the scenario suite every adapter runs,
// recovery across nodes included.
func TestSuite(t *testing.T) { adaptertest.Run(t, suiteConfig(t)) }

func suiteClient(t testing.TB, addr string) *goredis.Client {
	o := testkit.RedisOptions(t, addr)
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
	testkit.NeedRedis(t)
	return adaptertest.Config{
		NewNode: func(t testing.TB, cluster string) sockio.AdapterFactory {
			c := suiteClient(t, testkit.RedisAddr())
			if os.Getenv("SOCKIO_ADAPTERTEST_CHILD") == "" {
				t.Cleanup(func() { dropKeys(testkit.RedisAddr(), cluster) })
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
			rs := testkit.StartRedisServer(t)
			return func() sockio.AdapterFactory {
				return redisstreams.NewAdapter(suiteClient(t, rs.Addr()), suiteOptions("sockio-at-restart"))
			}, rs.Restart
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
	c := suiteClient(t, testkit.RedisAddr())
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
