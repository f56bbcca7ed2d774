package redishistory_test

import (
	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/chat/redishistory"
)

// A chat node of a cluster: broadcasts and presence through the Redis
// adapter, the history in Redis too.
func Example() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	io := sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(rdb, redis.Options{})})
	chat.New(io.Of("/"), chat.Options{History: redishistory.New(rdb, redishistory.Options{})})
	_ = io // mount io on an http.ServeMux and serve
}
