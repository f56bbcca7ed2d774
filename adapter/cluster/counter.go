package cluster

import (
	"context"
)

// ServerCounter is implemented by brokers that count the nodes of a
// namespace themselves (Redis' SHARDNUMSUB, for the sharded Redis adapter,
// whose Node.js peers send no heartbeats). With it, the core sends no
// heartbeats, ServerCount asks the broker, and a request waits for that
// many answers minus one: the reference's ClusterAdapter, without
// WithHeartbeat.
type ServerCounter interface {
	ServerCount(ctx context.Context, nsp string) (int, error)
}
