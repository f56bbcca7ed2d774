package redis

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

// startRedisCluster runs a Redis Cluster of n masters (no replicas) on
// free ports, each with its slots, and waits until it is healthy.
func startRedisCluster(t *testing.T, n int) []string {
	t.Helper()
	dir := t.TempDir()
	var addrs []string
	var servers []*testkit.RedisServer
	for i := range n {
		rs := testkit.NewRedisServer(t)
		bus := testkit.FreePort(t)
		rs.Args = []string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)), "--dir", dir}
		rs.Start()
		servers = append(servers, rs)
		addrs = append(addrs, rs.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clients := make([]*redis.Client, n)
	for i, a := range addrs {
		clients[i] = redis.NewClient(&redis.Options{Addr: a})
		defer clients[i].Close()
		lo, hi := i*16384/n, (i+1)*16384/n-1
		if err := clients[i].Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatalf("addslots on %s: %v", a, err)
		}
	}
	for _, rs := range servers[1:] {
		bus, _ := strconv.Atoi(rs.Args[3])
		if err := clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", rs.Port, bus).Err(); err != nil {
			t.Fatalf("meet %s: %v", rs.Addr(), err)
		}
	}
	for i, c := range clients {
		testkit.Eventually(t, 30*time.Second, func() error {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
				return fmt.Errorf("node %d: %s", i, strings.Fields(info)[:6])
			}
			return nil
		})
	}
	return addrs
}

// Every cluster scenario on a Redis Cluster of three masters, in classic
// mode (Pub/Sub is cluster-wide) and in the sharded modes (each channel on
// its slot's master: the room and socket channels spread over the three).
func TestOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	addrs := startRedisCluster(t, 3)
	dial := func(t testing.TB) redis.UniversalClient {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DialTimeout: time.Second})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	probe := dial(t)
	if n, err := probe.(*redis.ClusterClient).ClusterShards(context.Background()).Result(); err != nil || len(n) != 3 {
		t.Fatalf("cluster shards: %v, %v", n, err)
	}
	t.Run("slots-and-lanes", func(t *testing.T) { checkSlotsAndLanes(t, addrs, dial) })
	for _, m := range modes {
		if m.name == "sharded-static" {
			continue // two channels, nothing the other modes do not cover
		}
		for _, sc := range scenarios {
			t.Run(m.name+"/"+sc.name, func(t *testing.T) { sc.fn(t, env{Options: m.opts, dial: dial}) })
		}
	}
}

func TestHashSlot(t *testing.T) {
	// From the Redis Cluster specification.
	for key, want := range map[string]int{"123456789": 0x31C3, "{user1000}.following": 3443, "{user1000}.followers": 3443} {
		if got := hashSlot(key); got != want {
			t.Errorf("hashSlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// hashSlot agrees with CLUSTER KEYSLOT, and a sharded adapter on a
// Redis Cluster subscribes through one lane per slot.
func checkSlotsAndLanes(t *testing.T, addrs []string, dial func(testing.TB) redis.UniversalClient) {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addrs[0]})
	defer c.Close()
	for _, key := range []string{"", "foo", "socket.io#/#", "socket.io#/#room#", "a{b}c", "a{}b{c}", "{{x}}", "é{ü}", "x{y"} {
		want, err := c.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := hashSlot(key); got != int(want) {
			t.Errorf("hashSlot(%q) = %d, CLUSTER KEYSLOT says %d", key, got, want)
		}
	}
	n := startNodeWith(t, "lanes", dial(t), Options{Key: uniqueKey(t), Sharded: true, SubscriptionMode: DynamicPrivate})
	for i := range 4 {
		dialClient(t, n.url(), fmt.Sprint("c", i), nil)
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		s := n.adapter().r.sub
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.lanes) < 3 {
			return fmt.Errorf("%d lanes", len(s.lanes))
		}
		return nil
	})
}
