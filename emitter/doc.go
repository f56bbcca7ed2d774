// Package emitter sends events to the clients of a Socket.IO cluster, and
// makes its sockets join, leave or disconnect, from any Go process that
// has only a Redis connection: no Socket.IO server, no subscription.
//
// It writes what @socket.io/redis-emitter writes, so it drives sockio
// nodes (adapter/redis) and Node.js nodes (@socket.io/redis-adapter)
// alike. With Options.Sharded it writes for sharded-mode adapters
// instead (SPUBLISH, the format of the reference's createShardedAdapter),
// which the Node.js emitter cannot reach.
//
//	e := emitter.New(rdb, emitter.Options{})
//	err := e.To("room1").Emit(ctx, "news", "hello")
//	err = e.Of("/admin").In("room2").DisconnectSockets(ctx, true)
//
// Everything is fire and forget, as with the reference: an error means
// Redis did not take the message, not that a client got it.
package emitter
