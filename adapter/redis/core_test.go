package redis

import (
	"context"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

// Sharded mode runs on the cluster core (adapter/cluster), and what it
// publishes is still, byte for byte, what the reference's sharded adapter
// publishes.
func TestShardedOnClusterCoreWire(t *testing.T) {
	testkit.NeedRedis(t)
	testkit.CheckGoroutines(t)
	opts := Options{Key: uniqueKey(t), Sharded: true}
	nodes := startCluster(t, 2, env{Options: opts})
	a := nodes[0].adapter()
	if a.core == nil || a.core.UID() != a.UID() {
		t.Fatal("sharded mode does not run on the cluster core")
	}
	spy := newRedisClient(t, testkit.RedisAddr())
	ps := spy.SSubscribe(context.Background(), opts.Key+"#/#", opts.Key+"#/#room#")
	defer ps.Close()
	for range 2 {
		if _, err := ps.Receive(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	_ = nodes[0].srv.Emit("ev", 1, "two")
	_ = nodes[0].srv.To("room").Except("x").Volatile().Emit("ev", true)
	nodes[0].srv.In("room").SocketsJoin("other")
	uid := a.UID()
	want := []string{
		`{"type":3,"data":{"packet":{"type":2,"data":["ev",1,"two"],"nsp":"/"},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"` + uid + `","nsp":"/"}`,
		`{"type":3,"data":{"packet":{"type":2,"data":["ev",true],"nsp":"/"},"opts":{"rooms":["room"],"except":["x"],"flags":{"volatile":true}}},"uid":"` + uid + `","nsp":"/"}`,
		`{"type":4,"data":{"opts":{"rooms":["room"],"except":[],"flags":{}},"rooms":["other"]},"uid":"` + uid + `","nsp":"/"}`,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i, w := range want {
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Payload != w {
			t.Errorf("message %d on %s:\n got %s\nwant %s", i, m.Channel, m.Payload, w)
		}
	}
}
