package emitter_test

import (
	"context"
	"log"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/emitter"
)

// Send to the clients of a cluster from a process without a Socket.IO
// server: a worker, a cron job, another service.
func Example() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	e := emitter.New(rdb, emitter.Options{})
	ctx := context.Background()

	if err := e.To("room1").Emit(ctx, "news", "hello", map[string]any{"n": 1}); err != nil {
		log.Print(err)
	}
	_ = e.Of("/admin").Except("banned").Emit(ctx, "alert", []byte{0xca, 0xfe})
	_ = e.In("room1").SocketsJoin(ctx, "room2")
	_ = e.In("room2").DisconnectSockets(ctx, true)
	_ = e.ServerSideEmit(ctx, "reload-config")
}
