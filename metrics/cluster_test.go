package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
	redisadapter "github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/adapter/redisstreams"
	"github.com/sockio/sockio/client"
	"github.com/sockio/sockio/metrics"
	"github.com/sockio/sockio/sockiotest"
)

// redisClient is a client of the Redis the tests use (sockiotest.Redis:
// SOCKIO_TEST_REDIS, or 127.0.0.1:6379); the test is skipped without one,
// or fails on CI.
func redisClient(t *testing.T) *goredis.Client {
	t.Helper()
	return sockiotest.Redis(t).Client
}

// Two nodes on a real Redis: what one node broadcasts is published there
// and received by the other, for a client connected to it; the adapter of
// "/" is read without being listed, a broker when listed.
func TestCollectorCountsAdapterMessages(t *testing.T) {
	rdb := redisClient(t)
	prefix := "sockio-metrics-test-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	for _, mode := range []string{"redis", "redis-streams"} {
		t.Run(mode, func(t *testing.T) {
			nodeOpts := func() (sockio.Options, metrics.Options) {
				switch mode {
				case "redis":
					return sockio.Options{Adapter: redisadapter.NewAdapter(rdb, redisadapter.Options{Key: prefix})}, metrics.Options{}
				default:
					b := redisstreams.NewBroker(rdb, redisstreams.Options{StreamName: prefix, ChannelPrefix: prefix})
					t.Cleanup(func() { _ = b.Close() })
					return sockio.Options{Adapter: cluster.NewAdapter(b, cluster.Options{})}, metrics.Options{Adapters: []any{b}}
				}
			}
			so, mo := nodeOpts()
			a := newNode(t, so, mo, nil)
			so, mo = nodeOpts()
			b := newNode(t, so, mo, nil)
			if mode == "redis-streams" {
				// The cluster core subscribes in the background: wait until
				// the namespace listens before broadcasting.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := a.io.Of("/").Adapter().(*cluster.Adapter).WaitSubscribed(ctx); err != nil {
					t.Fatal(err)
				}
			}

			s, err := client.New(a.http.URL+"/", client.Options{Transports: []string{client.WebSocket}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			got := make(chan string, 16)
			s.On("news", func(v string) { got <- v })
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := s.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			_, before := b.scrape(t)
			// Pub/Sub keeps nothing for a node not yet subscribed: repeat
			// until one arrives.
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
		wait:
			for {
				if err := b.io.Emit("news", "hello"); err != nil {
					t.Fatal(err)
				}
				select {
				case <-got:
					break wait
				case <-tick.C:
				case <-ctx.Done():
					t.Fatal("the broadcast never reached the other node's client")
				}
			}
			// The publisher counts a message once the broker answered,
			// which may be after the other node got it.
			published := before["sockio_adapter_messages_published_total"]
			for deadline := time.Now().Add(10 * time.Second); ; {
				_, after := b.scrape(t)
				if after["sockio_adapter_messages_published_total"] > published {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node b published %v, before %v", after["sockio_adapter_messages_published_total"], published)
				}
				time.Sleep(20 * time.Millisecond)
			}
			_, onA := a.scrape(t)
			if onA["sockio_adapter_messages_received_total"] < 1 {
				t.Errorf("node a received %v", onA["sockio_adapter_messages_received_total"])
			}
			for _, k := range []string{
				series("sockio_adapter_messages_dropped_total", "reason", "not_published"),
				series("sockio_adapter_messages_dropped_total", "reason", "malformed"),
				"sockio_adapter_request_timeouts_total",
			} {
				if v, ok := onA[k]; !ok || v != 0 {
					t.Errorf("%s = %v (present %v), want 0", k, v, ok)
				}
			}
		})
	}
}
