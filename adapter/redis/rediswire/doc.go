// Package rediswire is the one definition of the Redis wire that
// @socket.io/redis-adapter 8 and @socket.io/redis-emitter speak, shared by
// adapter/redis and emitter: channel names, the classic protocol's request
// types, the sharded protocol's message types and encoding, and the rule
// that picks a broadcast's channel. It imports no server code, so a worker
// process that only emits gets none.
package rediswire
