package redis_test

import (
	"context"
	"log"
	"net/http"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redis"
)

// One node of a cluster: run the same program on every machine, behind a
// load balancer with sticky sessions (see docs/scaling.md).
func Example() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	io := sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(rdb, redis.Options{})})
	io.OnConnection(func(s *sockio.Socket) {
		s.Join("lobby")
		// Reaches the members of "lobby" on every node.
		s.On("chat message", func(msg string) { _ = io.To("lobby").Emit("chat message", msg) })
	})

	// Requests to the other nodes take a context and fail after
	// Options.RequestsTimeout (5s) with an error wrapping sockio.ErrTimeout.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if sockets, err := io.In("lobby").FetchSockets(ctx); err == nil {
		log.Printf("%d sockets in the lobby, cluster-wide", len(sockets))
	}
	_ = io.ServerSideEmit("config-changed", "v2")

	http.Handle("/socket.io/", io)
	// http.ListenAndServe(":3000", nil)
}

// Redis 7 sharded Pub/Sub, as the reference's createShardedAdapter.
func Example_sharded() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	_ = sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(rdb, redis.Options{
		Sharded:          true,
		SubscriptionMode: redis.Dynamic,
	})})
}
