// Package redis is a cluster adapter for sockio: several sockio nodes,
// behind a load balancer, share broadcasts, rooms and requests through
// Redis Pub/Sub.
//
// It speaks the protocol of the Node.js @socket.io/redis-adapter 8 with
// its default options, so Go and Node.js nodes can serve one cluster:
// the same channels (socket.io#/#, socket.io#/#room#,
// socket.io-request#/#, socket.io-response#/#), broadcasts as notepack
// MessagePack, requests as JSON (broadcasts with acknowledgements as
// MessagePack). With Options.Sharded it speaks the protocol of the
// reference's createShardedAdapter instead, over Redis 7 sharded Pub/Sub
// (SPUBLISH, SSUBSCRIBE): that protocol is the reference's ClusterAdapter,
// so in sharded mode the adapter is adapter/cluster's on a Redis broker
// (without heartbeats: the nodes are counted with SHARDNUMSUB, as Node.js
// does). Package emitter sends to such a cluster from a process that has
// no Socket.IO server; both take the wire's names and types from package
// rediswire.
//
//	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
//	io := sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(rdb, redis.Options{})})
//
// Each NewAdapter holds one subscriber connection for all the namespaces
// of the server it is given to (so use one per Server), started with the
// first namespace and released when the server closes; in sharded mode on
// a Redis Cluster (a *redis.ClusterClient), one per hash slot in use.
// Publishing never blocks the caller: messages go through a bounded queue
// to one publisher.
//
// Faults: while Redis is away, local delivery goes on, messages for other
// nodes are dropped (and counted in the log), and requests to other nodes
// fail, at the latest after Options.RequestsTimeout, with an error that
// wraps sockio.ErrTimeout or the Redis error. The subscriber reconnects,
// resubscribes and logs both events; a subscriber that stays silent past a
// health check is replaced.
package redis
