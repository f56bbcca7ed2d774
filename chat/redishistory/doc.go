// Package redishistory is a chat.History in Redis, so that every node of
// a cluster replays the same room history.
//
// Each room is a Redis list of JSON messages, trimmed to Options.Limit and
// expiring Options.TTL after its last message; a sorted set of rooms by
// last write bounds their number to Options.MaxRooms (the stalest room is
// forgotten first, as chat.MemoryHistory does). All keys share one hash
// tag, so a Redis Cluster keeps them on one shard and the append, a small
// Lua script, stays atomic.
package redishistory
