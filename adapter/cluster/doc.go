// Package cluster is sockio's cluster protocol, written once for every
// broker: broadcasts (rooms, except, flags, binary), broadcasts with
// acknowledgements, requests and responses (fetchSockets, socketsJoin and
// socketsLeave, disconnectSockets, serverSideEmit), node heartbeats and the
// list of live nodes, in the spirit of the reference's
// ClusterAdapterWithHeartbeat (socket.io-adapter).
//
// A Broker only carries messages: publish to every node, answer one node,
// and where it can keep an ordered Log with offsets and a SessionStore, with
// which connection-state recovery works across nodes. adapter/redis,
// adapter/redisstreams and adapter/nats are brokers on this core.
package cluster
