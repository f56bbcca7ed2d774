package cluster

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

// counting is a MemoryBroker that counts the nodes itself, as Redis'
// SHARDNUMSUB does for the sharded adapter, and records the heartbeats
// it carries.
type counting struct {
	*MemoryBroker
	heartbeats atomic.Int64
}

func (c *counting) ServerCount(_ context.Context, nsp string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.subs[nsp]), nil
}

func (c *counting) Publish(ctx context.Context, m *Message) (string, error) {
	switch m.Type {
	case InitialHeartbeat, Heartbeat, AdapterClose:
		c.heartbeats.Add(1)
	}
	return c.MemoryBroker.Publish(ctx, m)
}

func TestServerCounterBrokerSendsNoHeartbeats(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := &counting{MemoryBroker: NewMemoryBroker()}
	nodes := startCluster(t, b, 3, fastHeartbeats, false)
	for i, n := range nodes {
		dialClient(t, n.url(), "c"+itoa(i), nil, nil)
	}
	waitRoom(t, nodes[1], "", 3)
	socks, err := nodes[2].srv.FetchSockets(context.Background())
	if err != nil || len(socks) != 3 {
		t.Fatalf("FetchSockets: %d sockets, %v", len(socks), err)
	}
	nodes[0].close()
	waitCluster(t, nodes[1:], 2)
	if n := b.heartbeats.Load(); n != 0 {
		t.Errorf("%d heartbeats through a broker that counts nodes itself", n)
	}
}
