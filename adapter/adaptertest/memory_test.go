package adaptertest_test

import (
	"testing"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
)

// The in-memory adapter: the scenarios of one node, recovery included.
func TestMemoryAdapter(t *testing.T) {
	adaptertest.Run(t, adaptertest.Config{
		NewNode: func(testing.TB, string) sockio.AdapterFactory {
			return func(nsp *sockio.Namespace) sockio.Adapter { return sockio.NewMemoryAdapter(nsp) }
		},
		SingleNode: true,
		Recovery:   true,
	})
}
