package adaptertest_test

import (
	"testing"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
	"github.com/sockio/sockio/adapter/cluster"
)

// An adapter's test describes how to make the nodes of one cluster, and
// the suite does the rest. Here the cluster core on one in-process
// MemoryBroker per cluster name.
func ExampleRun() {
	brokers := map[string]*cluster.MemoryBroker{}
	cfg := adaptertest.Config{
		NewNode: func(_ testing.TB, name string) sockio.AdapterFactory {
			if brokers[name] == nil {
				brokers[name] = cluster.NewMemoryBroker()
			}
			return cluster.NewAdapter(brokers[name], cluster.Options{})
		},
		Recovery: true,
		Skip:     map[string]string{"HostileMessages": "the broker takes no raw bytes (#13)"},
	}
	// In a test function: adaptertest.Run(t, cfg)
	_ = cfg
}
