package redisstreams_test

import (
	"net/http"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redisstreams"
)

// A node of a cluster on Redis Streams, which Node.js nodes with
// @socket.io/redis-streams-adapter can join: a client whose node dies
// reconnects through any other and gets its session and missed events.
func ExampleNewAdapter() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	io := sockio.NewServer(sockio.Options{
		Adapter:                 redisstreams.NewAdapter(rdb, redisstreams.Options{}),
		ConnectionStateRecovery: &sockio.RecoveryOptions{MaxDisconnectionDuration: 2 * time.Minute},
	})
	io.OnConnection(func(s *sockio.Socket) {
		s.On("chat", func(msg string) { _ = io.Emit("chat", msg) })
	})
	http.Handle("/socket.io/", io)
}
