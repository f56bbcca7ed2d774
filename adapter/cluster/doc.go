// Package cluster is sockio's cluster protocol, written once for every
// broker: broadcasts (rooms, except, flags, binary), broadcasts with
// acknowledgements, requests and responses (fetchSockets, socketsJoin and
// socketsLeave, disconnectSockets, serverSideEmit), node heartbeats and the
// list of live nodes, in the spirit of the reference's
// ClusterAdapterWithHeartbeat (socket.io-adapter).
//
// A Broker only carries messages: publish to every node, answer one node,
// and where it can keep an ordered Log with offsets and a SessionStore, with
// which connection-state recovery works across nodes. adapter/redis (its
// sharded mode), adapter/redisstreams and adapter/nats are brokers on this
// core.
//
//	io := sockio.NewServer(sockio.Options{Adapter: cluster.NewAdapter(broker, cluster.Options{})})
//
// Nodes: each namespace adapter has a uid. It says INITIAL_HEARTBEAT when
// subscribed, HEARTBEAT when it published nothing else for
// HeartbeatInterval, ADAPTER_CLOSE when it closes; a node unheard for
// HeartbeatTimeout is dropped. ServerCount is the live nodes plus one, with
// no round trip, and a request waits for the nodes live when it was sent:
// one that is dropped meanwhile is no longer waited for. A broker that
// counts nodes itself (ServerCounter, as Redis' SHARDNUMSUB for the sharded
// Redis adapter, whose Node.js peers send no heartbeats) gets the
// reference's plain ClusterAdapter instead: no heartbeats, requests wait for
// that count.
//
// Recovery: with a broker that has a Log and a SessionStore, a recoverable
// broadcast (an event without ack, not volatile) is published first and its
// offset in the log appended as its last argument, on every node; a
// disconnected socket's session is kept in the broker, and any node restores
// it with the events it missed, read from the log. Without them, recovery
// stays per node (sockio.MemoryAdapter's).
//
// Live sessions: with such a broker, the session of every connected socket
// is kept in the store too, written when it connects and when its rooms or
// data change (coalesced, once per Options.LiveSessionsFlush, in one batch:
// SessionBatchStore), and rewritten every half recovery window, so that a
// client whose node dies without a word (SIGKILL, a crash) recovers through
// any other node. The server reports the changes through
// sockio.SessionTracker; a disconnect replaces the snapshot with the real
// session, or forgets it when there is nothing to recover. A snapshot is
// kept for the window plus the refresh period, so the client has the whole
// window after its node's death; it is taken once, as any session.
// Options.DisableLiveSessions turns them off.
//
// NewMemoryBroker is an in-process broker with a Log and a SessionStore,
// for tests and for several servers in one process: not a network broker.
//
// Messages a broker delivers are never trusted: what cannot be read is
// counted (Stats.Malformed) and logged, never a panic.
package cluster
