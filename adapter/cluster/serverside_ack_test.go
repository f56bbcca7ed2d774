package cluster

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestServerSideEmitWithAck: the other nodes' answers come back to the
// caller (each node of startNode answers "<name>:<event>").
func TestServerSideEmitWithAck(t *testing.T) {
	nodes := startCluster(t, NewMemoryBroker(), 3, Options{}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := nodes[0].srv.ServerSideEmitWithAck(ctx, "hello", 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range res {
		var s string
		if err := a.Decode(0, &s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"node1:hello", "node2:hello"}) {
		t.Fatalf("answers %q", got)
	}
}
