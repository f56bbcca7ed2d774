package redis

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/testkit"
)

// The shared connection of a factory starts with its first namespace,
// stops with the server's close (no goroutine left), and starts again for
// a server created later with the same factory.
func TestFactoryLifecycle(t *testing.T) {
	testkit.NeedRedis(t)
	testkit.CheckGoroutines(t)
	key := uniqueKey(t)
	peer := startNode(t, "peer", testkit.RedisAddr(), Options{Key: key})
	rdb := newRedisClient(t, testkit.RedisAddr())
	factory := NewAdapter(rdb, Options{Key: key, Logger: debugLogger(&testkit.LogBuffer{})})

	for round := range 2 {
		srv := sockio.NewServer(sockio.Options{Adapter: factory})
		_ = srv.Of("/dyn") // a second namespace on the same connection
		hs := httptest.NewServer(srv)
		a := srv.Of("/").Adapter().(*Adapter)
		waitCluster(t, []*node{peer}, 2)
		c := dialClient(t, hs.URL, "c", nil)
		_ = peer.srv.Emit("hello", round)
		var got int
		c.Expect("hello").Arg(t, 0, &got)
		if got != round {
			t.Fatalf("round %d: got %d", round, got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Close(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		hs.Close()
		c.Close()
		if a.h.cur != nil || a.h.refs != 0 {
			t.Fatalf("round %d: hub still running after close (%d refs)", round, a.h.refs)
		}
		waitCluster(t, []*node{peer}, 1)
	}
}
