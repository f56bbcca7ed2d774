package adaptertest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/adapter/redis"
)

// The Redis Pub/Sub adapter, classic and sharded, on the machine's Redis
// (SOCKIO_TEST_REDIS overrides it), and on a redis-server of its own for
// the restart.
func TestRedisClassic(t *testing.T) { adaptertest.Run(t, redisConfig(t, false)) }

func TestRedisSharded(t *testing.T) { adaptertest.Run(t, redisConfig(t, true)) }

func newRedisClient(t testing.TB, addr string) *goredis.Client {
	o := testkit.RedisOptions(t, addr) // SOCKIO_TEST_REDIS may be a URL
	o.DialTimeout, o.MaxRetries = time.Second, 1
	c := goredis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func redisConfig(t *testing.T, sharded bool) adaptertest.Config {
	testkit.NeedRedis(t)
	opts := func(key string) redis.Options {
		return redis.Options{Key: key, Sharded: sharded, RequestsTimeout: time.Second, HealthCheckInterval: time.Second}
	}
	cfg := adaptertest.Config{
		NewNode: func(t testing.TB, cluster string) sockio.AdapterFactory {
			return redis.NewAdapter(newRedisClient(t, testkit.RedisAddr()), opts(cluster))
		},
		CrossProcess:    true,
		RequestsTimeout: time.Second,
		// The count is Redis' count of subscribers: a dead node's
		// connection is gone as soon as its process is.
		NodeTimeout: 5 * time.Second,
		RestartBroker: func(t *testing.T) (func() sockio.AdapterFactory, func()) {
			rs := testkit.StartRedisServer(t)
			key := "sockio-at-restart"
			return func() sockio.AdapterFactory { return redis.NewAdapter(newRedisClient(t, rs.Addr()), opts(key)) }, rs.Restart
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
	c := newRedisClient(t, testkit.RedisAddr())
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
