package redisstreams

import (
	"context"
	"fmt"

	"github.com/sockio/sockio/adapter/cluster"
)

var _ cluster.ServerCounter = (*Broker)(nil)

// ServerCount counts the nodes of nsp as the reference does: the
// subscribers of its public channel (PUBSUB NUMSUB, or SHARDNUMSUB). The
// reference 0.3 sends no heartbeats, so with this the core sends none
// either and a request waits for that many nodes, Go and Node.js alike.
func (b *Broker) ServerCount(ctx context.Context, nsp string) (int, error) {
	ch := publicChannel(&b.opts, nsp)
	var n map[string]int64
	var err error
	if b.opts.UseShardedPubSub {
		n, err = b.rdb.PubSubShardNumSub(ctx, ch).Result()
	} else {
		n, err = b.rdb.PubSubNumSub(ctx, ch).Result()
	}
	if err != nil {
		return 0, fmt.Errorf("redisstreams: counting the nodes of %q: %w", nsp, err)
	}
	return int(n[ch]), nil
}
