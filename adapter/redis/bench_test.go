package redis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

// The cross-node benchmarks run on the test Redis (SOCKIO_TEST_REDIS, or
// 127.0.0.1:6379), every node in this process (so Redis, the nodes and
// the clients share the machine's cores). Run:
//
//	go test -run '^$' -bench CrossNode -benchtime 20000x ./adapter/redis

// BenchmarkCrossNodeBroadcast measures sustained broadcast throughput: one
// node emits to all, two other nodes deliver to 5 websocket clients each.
// At most window broadcasts are in flight (sent, not yet received by the
// last client), so the bounded queues never drop anything.
func BenchmarkCrossNodeBroadcast(b *testing.B) {
	for _, m := range []struct {
		name string
		opts Options
	}{{"classic", Options{}}, {"sharded", Options{Sharded: true}}} {
		for _, size := range []int{16, 1024} {
			b.Run(fmt.Sprintf("%s/%dB", m.name, size), func(b *testing.B) {
				benchBroadcast(b, m.opts, size)
			})
		}
	}
}

func benchBroadcast(b *testing.B, opts Options, size int) {
	testkit.NeedRedis(b)
	nodes := startCluster(b, 3, env{Options: opts})
	var clients []*testkit.Client
	for i := range 10 {
		clients = append(clients, dialClient(b, nodes[1+i%2].url(), fmt.Sprintf("c%d", i), nil))
	}
	payload := strings.Repeat("x", size)
	const window = 4096
	var received atomic.Int64 // by the slowest client
	counts := make([]atomic.Int64, len(clients))
	done := make(chan error, len(clients))
	for i, c := range clients {
		go func() {
			for range b.N {
				if _, err := c.Next(10 * time.Second); err != nil {
					done <- err
					return
				}
				n := counts[i].Add(1)
				low := n
				for j := range counts {
					low = min(low, counts[j].Load())
				}
				if low > received.Load() {
					received.Store(low)
				}
			}
			done <- nil
		}()
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := range b.N {
		for deadline := time.Now().Add(10 * time.Second); int64(i)-received.Load() >= window; {
			if time.Now().After(deadline) {
				b.Fatalf("stalled at %d sent, %d received", i, received.Load())
			}
			time.Sleep(50 * time.Microsecond)
		}
		_ = nodes[0].srv.Emit("m", payload)
	}
	for range clients {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "broadcasts/s")
	b.ReportMetric(float64(b.N*len(clients))/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkCrossNodeLatency measures the time from Emit on one node to the
// event read by a websocket client, one message at a time: through Redis
// to another node ("remote"), or on the same node ("local") for scale.
func BenchmarkCrossNodeLatency(b *testing.B) {
	for _, where := range []string{"local", "remote"} {
		for _, m := range []struct {
			name string
			opts Options
		}{{"classic", Options{}}, {"sharded", Options{Sharded: true}}} {
			b.Run(where+"/"+m.name, func(b *testing.B) {
				testkit.NeedRedis(b)
				nodes := startCluster(b, 2, env{Options: m.opts})
				target := nodes[0]
				if where == "remote" {
					target = nodes[1]
				}
				c := dialClient(b, target.url(), "c", nil)
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for range b.N {
					start := time.Now()
					_ = nodes[0].srv.Emit("m", "ping")
					if _, err := c.Next(5 * time.Second); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				b.StopTimer()
				slices.Sort(lat)
				q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
				b.ReportMetric(q(0.5), "p50-µs")
				b.ReportMetric(q(0.99), "p99-µs")
			})
		}
	}
}

// BenchmarkPubSubRoundTrip is the floor of forwarding a polling request
// over Redis instead of over HTTP (docs/decisions.md): one node publishes
// a request, the owner receives it and publishes the answer, the first
// receives it; nothing else is done. Compare with engineio's
// BenchmarkPollingEcho (sticky against forwarded).
func BenchmarkPubSubRoundTrip(b *testing.B) {
	testkit.NeedRedis(b)
	ctx := context.Background()
	prefix := fmt.Sprintf("sockio-rt-%d-", time.Now().UnixNano())
	owner, asker := redis.NewClient(testkit.RedisOptions(b, testkit.RedisAddr())), redis.NewClient(testkit.RedisOptions(b, testkit.RedisAddr()))
	defer owner.Close()
	defer asker.Close()
	reqs := owner.Subscribe(ctx, prefix+"req")
	defer reqs.Close()
	ress := asker.Subscribe(ctx, prefix+"res")
	defer ress.Close()
	for _, s := range []*redis.PubSub{reqs, ress} {
		if _, err := s.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
	go func() {
		for m := range reqs.Channel() {
			owner.Publish(ctx, prefix+"res", m.Payload)
		}
	}()
	in := ress.Channel()
	body := strings.Repeat("x", 64)
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		if err := asker.Publish(ctx, prefix+"req", body).Err(); err != nil {
			b.Fatal(err)
		}
		<-in
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
