package redisstreams

import (
	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
)

// NewAdapter returns the adapter factory of a cluster over Redis Streams,
// which Node.js nodes with @socket.io/redis-streams-adapter can join:
// give it to sockio.Options.Adapter on every node. With connection-state
// recovery on, a client gets its session and missed events back from any
// node.
func NewAdapter(rdb redis.UniversalClient, opts Options) sockio.AdapterFactory {
	o := opts.withDefaults()
	return cluster.NewAdapter(NewBroker(rdb, o), cluster.Options{
		HeartbeatInterval: o.HeartbeatInterval,
		HeartbeatTimeout:  o.HeartbeatTimeout,
		RequestsTimeout:   o.RequestsTimeout,
		Logger:            o.Logger,

		DisableLiveSessions: o.DisableLiveSessions,
		LiveSessionsFlush:   o.LiveSessionsFlush,
	})
}
