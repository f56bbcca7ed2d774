package rediswire_test

import (
	"testing"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/redis/rediswire"
)

// The sharded types are the cluster core's: one numbering, the
// reference's ClusterAdapter's.
func TestTypesAreTheClusterCore(t *testing.T) {
	pairs := []struct {
		wire int
		core cluster.MessageType
	}{
		{rediswire.TypeInitialHeartbeat, cluster.InitialHeartbeat},
		{rediswire.TypeHeartbeat, cluster.Heartbeat},
		{rediswire.TypeBroadcast, cluster.Broadcast},
		{rediswire.TypeSocketsJoin, cluster.SocketsJoin},
		{rediswire.TypeSocketsLeave, cluster.SocketsLeave},
		{rediswire.TypeDisconnectSockets, cluster.DisconnectSockets},
		{rediswire.TypeFetchSockets, cluster.FetchSockets},
		{rediswire.TypeFetchSocketsResponse, cluster.FetchSocketsResponse},
		{rediswire.TypeServerSideEmit, cluster.ServerSideEmit},
		{rediswire.TypeServerSideEmitResponse, cluster.ServerSideEmitResponse},
		{rediswire.TypeBroadcastClientCount, cluster.BroadcastClientCount},
		{rediswire.TypeBroadcastAck, cluster.BroadcastAck},
		{rediswire.TypeAdapterClose, cluster.AdapterClose},
	}
	for _, p := range pairs {
		if p.wire != int(p.core) {
			t.Errorf("rediswire type %d, cluster %d", p.wire, p.core)
		}
	}
}

func TestShardedBroadcastChannel(t *testing.T) {
	id := "abcdefghijklmnopqrst" // 20 characters: a socket id
	cases := []struct {
		mode  rediswire.SubscriptionMode
		rooms []string
		want  string
	}{
		{rediswire.Dynamic, []string{"r"}, "k#/#r#"},
		{rediswire.Dynamic, []string{id}, "k#/#"},
		{rediswire.DynamicPrivate, []string{id}, "k#/#" + id + "#"},
		{rediswire.Static, []string{"r"}, "k#/#"},
		{rediswire.Dynamic, []string{"r", "s"}, "k#/#"},
		{rediswire.Dynamic, nil, "k#/#"},
	}
	for _, c := range cases {
		got, room := rediswire.ShardedBroadcastChannel("k", "/", c.mode, c.rooms)
		if got != c.want || room != (got != "k#/#") {
			t.Errorf("%s %v: %q %v, want %q", c.mode, c.rooms, got, room, c.want)
		}
	}
}

func TestEncodeShardedJSONUnlessBinary(t *testing.T) {
	b, err := rediswire.EncodeSharded(rediswire.TypeSocketsJoin, nil, "u", "/")
	if err != nil || string(b) != `{"type":4,"data":{},"uid":"u","nsp":"/"}` {
		t.Errorf("%s, %v", b, err)
	}
}
