package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/internal/notepack"
)

// hostile are messages a broken or hostile peer may publish: none may
// panic, each is counted and logged, and the node goes on.
var hostile = []struct {
	typ  MessageType
	data any
}{
	{Broadcast, "garbage"},
	{Broadcast, nil},
	{Broadcast, notepack.Map{{Key: "packet", Value: notepack.Map{{Key: "type", Value: 2}, {Key: "data", Value: []any{"ev"}}}}}},                                   // no opts
	{Broadcast, notepack.Map{{Key: "opts", Value: notepack.Map{}}, {Key: "packet", Value: notepack.Map{{Key: "type", Value: 9}}}}},                                // bad type
	{Broadcast, notepack.Map{{Key: "opts", Value: notepack.Map{}}, {Key: "packet", Value: notepack.Map{{Key: "type", Value: 2}, {Key: "data", Value: []any{}}}}}}, // no event name
	{Broadcast, notepack.Map{{Key: "opts", Value: notepack.Map{}}, {Key: "requestId", Value: 7}, {Key: "packet", Value: notepack.Map{{Key: "type", Value: 2}, {Key: "data", Value: []any{"ev"}}}}}},
	{FetchSockets, notepack.Map{{Key: "opts", Value: notepack.Map{}}}}, // no requestId
	{ServerSideEmit, notepack.Map{{Key: "packet", Value: notepack.Map{}}}},
	{ServerSideEmit, notepack.Map{{Key: "packet", Value: []any{true}}}},
	{FetchSocketsResponse, notepack.Map{{Key: "requestId", Value: "x"}, {Key: "sockets", Value: 3}}},
	{BroadcastAck, []any{1, 2}},
	{MessageType(99), nil},
	{MessageType(-1), "x"},
}

func TestMalformedMessagesCounted(t *testing.T) {
	testkit.CheckGoroutines(t)
	b := NewMemoryBroker()
	nodes := startCluster(t, b, 2, Options{}, true)
	c := dialClient(t, nodes[1].url(), "c", nil, nil)
	ctx := context.Background()
	for _, h := range hostile {
		if _, err := b.Publish(ctx, &Message{UID: "evil", NSP: "/", Type: h.typ, Data: h.data}); err != nil {
			t.Fatal(err)
		}
	}
	// Odd rooms and flags are not malformed: read as far as they make sense.
	_, _ = b.Publish(ctx, &Message{UID: "emitter", NSP: "/", Type: Broadcast, Data: map[string]any{
		"opts":   map[string]any{"rooms": []any{1.5, true, "x"}, "except": "no", "flags": 3},
		"packet": map[string]any{"type": 2.0, "data": []any{"odd"}},
	}})
	want := uint64(len(hostile))
	testkit.Eventually(t, 5*time.Second, func() error {
		if got := nodes[1].adapter().Stats().Malformed; got < want {
			return errorf("malformed %d, want %d", got, want)
		}
		return nil
	})
	if !strings.Contains(nodes[1].log.String(), "malformed") {
		t.Errorf("malformed messages not logged:\n%s", nodes[1].log)
	}
	// The node still works.
	_ = nodes[0].srv.Emit("fine")
	c.Expect("fine")
	if got := nodes[1].adapter().Stats().Malformed; got != want {
		t.Errorf("malformed %d, want %d (an odd but readable broadcast counted?)", got, want)
	}
	// A malformed message does not make its sender a node.
	if n, _ := nodes[1].srv.Of("/").ServerCount(ctx); n != 2 {
		t.Errorf("server count %d, want 2", n)
	}
}
