// Package redisstreams is a cluster.Broker over Redis Streams,
// wire-compatible with the Node.js @socket.io/redis-streams-adapter 0.3:
// Go and Node.js nodes can share one Redis and one cluster.
//
// As in the reference, the messages that must survive a disconnection
// (plain broadcasts, socketsJoin/Leave, disconnectSockets) are XADDed to a
// stream ("socket.io" by default, trimmed with MAXLEN ~ 10000) whose entry
// ids are the offsets of connection-state recovery, and every node reads
// it with XREAD BLOCK. Ephemeral messages (broadcasts with an
// acknowledgement, serverSideEmit, fetchSockets) and responses travel over
// Redis Pub/Sub, on "<prefix>#<nsp>#" and "<prefix>#<nsp>#<uid>#". As in the
// reference, nodes send no heartbeats: the Broker is a cluster.ServerCounter
// that counts the subscribers of "<prefix>#<nsp>#" (PUBSUB NUMSUB).
//
// The Broker also implements cluster.Log (XRANGE from a client's offset)
// and cluster.SessionStore (sessions under "sio:session:<pid>", MessagePack
// in base64, as the reference stores them), so that a client whose node
// died gets its session and missed events back from any node, Go or
// Node.js.
//
// NewAdapter wires a Broker into cluster.NewAdapter; NewBroker gives the
// Broker alone.
package redisstreams
