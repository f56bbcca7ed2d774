// Package nats is a sockio cluster broker over NATS: core NATS carries the
// cluster messages of adapter/cluster between nodes, and, when recovery is
// on, JetStream keeps them in an ordered log (a stream) with a key-value
// bucket for the sessions of disconnected sockets, so that a client whose
// node died recovers its socket id, rooms, data and every event it missed
// on any other node.
//
// Subjects, with the default prefix "socket.io" and a namespace token N
// (the namespace name escaped by EscapeToken):
//
//	socket.io.N        messages to every node (broadcasts, requests)
//	socket.io.N.U      responses to node U (its uid, escaped)
//	socket.io.N.%hb    heartbeats, always on core NATS
//
// Messages are MessagePack maps {type, data, uid, nsp}, the shape of the
// sharded Redis adapter's, encoded with internal/notepack.
//
// Without recovery every subject is plain core NATS. With recovery a
// stream captures socket.io.* (the namespace subjects, not responses nor
// heartbeats): every message to the namespace, broadcasts and requests
// alike, is published through JetStream (its stream sequence is its
// offset) and each node reads it once, from an ordered consumer started at
// the stream's end when it subscribes. One ordered log keeps a request
// behind the broadcast sent before it by any node (io.to(r).emit then
// socketsJoin is seen in that order everywhere). Heartbeats stay on core
// NATS: a node that was away must not take stale heartbeats for live nodes.
//
// Faults: nats.go reconnects by itself (Connect sets it to retry forever
// with a bounded reconnect buffer); the broker logs each loss of the
// connection and how long the node was deaf (Stats.Disconnects,
// Stats.Deaf). While the connection is down a core publish is queued in
// the reconnect buffer and fails past it, and a JetStream publish fails at
// once: neither blocks the caller, and each failure is counted
// (Stats.NotPublished). After a reconnect the ordered consumer resumes
// after the last sequence it delivered, so with recovery on a node that
// was deaf gets what it missed, once; on core NATS what was published
// while it was away is lost to it. A message that is not a cluster message
// is counted (Stats.Malformed), logged at most once a second, and dropped.
//
// NewAdapter builds a sockio.AdapterFactory on adapter/cluster; NewBroker
// gives the broker alone, and Connect a connection with reconnect settings
// suited to a cluster.
package nats
