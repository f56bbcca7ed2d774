package testkit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sockio/sockio"
)

// ClusterNode is what WaitCluster needs of one node of a test cluster.
type ClusterNode struct {
	Name           string
	Server         *sockio.Server
	WaitSubscribed func(context.Context) error // its "/" adapter's
	Log            fmt.Stringer                // shown when it never subscribes
}

// WaitCluster waits until every node's "/" is subscribed and counts want
// servers.
func WaitCluster(t testing.TB, nodes []ClusterNode, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.WaitSubscribed(ctx); err != nil {
			t.Fatalf("%s: not subscribed: %v\nlog:\n%s", n.Name, err, n.Log)
		}
	}
	for _, n := range nodes {
		Eventually(t, 10*time.Second, func() error {
			got, err := n.Server.Of("/").ServerCount(ctx)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s: server count %d, want %d", n.Name, got, want)
			}
			return nil
		})
	}
}
