package adaptertest_test

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
	"github.com/sockio/sockio/adapter/cluster"
)

// The cluster core on its in-process MemoryBroker (with a Log and a
// SessionStore): every scenario but those of a real broker (a child
// process node, a broker restart, raw messages on the broker).
func TestClusterMemoryBroker(t *testing.T) {
	var mu sync.Mutex
	brokers := map[string]*cluster.MemoryBroker{}
	opts := cluster.Options{
		HeartbeatInterval: 200 * time.Millisecond,
		HeartbeatTimeout:  time.Second,
		RequestsTimeout:   time.Second,
		Logger:            slog.New(slog.DiscardHandler),
	}
	adaptertest.Run(t, adaptertest.Config{
		NewNode: func(_ testing.TB, name string) sockio.AdapterFactory {
			mu.Lock()
			defer mu.Unlock()
			b := brokers[name]
			if b == nil {
				b = cluster.NewMemoryBroker()
				brokers[name] = b
			}
			return cluster.NewAdapter(b, opts)
		},
		Recovery:        true,
		RequestsTimeout: opts.RequestsTimeout,
		NodeTimeout:     opts.HeartbeatTimeout,
	})
}
