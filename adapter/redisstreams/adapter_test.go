package redisstreams

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/client"
)

type goNode struct {
	name string
	srv  *sockio.Server
	hs   *httptest.Server
}

func startGoNode(t *testing.T, name string, c redis.UniversalClient, opts Options) *goNode {
	t.Helper()
	n := &goNode{name: name}
	n.srv = sockio.NewServer(sockio.Options{
		Adapter:                 NewAdapter(c, opts),
		ConnectionStateRecovery: &sockio.RecoveryOptions{MaxDisconnectionDuration: 30 * time.Second},
	})
	n.srv.OnConnection(func(s *sockio.Socket) {
		if !s.Recovered() {
			s.SetData(map[string]any{"node": name})
		}
		s.On("join", func(room string, ack sockio.Ack) { s.Join(room); ack() })
		// A connection lost without a goodbye: the session is kept.
		s.On("drop", func() { s.Client().Conn().Close() })
	})
	n.srv.Of("/").OnServerSideEmit(func(e *sockio.Event) {
		if e.WantsAck() {
			_ = e.Ack(name)
		}
	})
	n.hs = httptest.NewServer(n.srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.srv.Close(ctx)
		n.hs.Close()
	})
	return n
}

// front is a load balancer whose backend the test switches.
func front(t *testing.T, to *atomic.Pointer[url.URL]) string {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httputil.NewSingleHostReverseProxy(to.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestAdapterAcrossNodes: two sockio nodes on one Redis: a broadcast, a
// request answered by the other node (over Pub/Sub), the node count from
// NUMSUB.
func TestAdapterAcrossNodes(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	a, b := startGoNode(t, "a", c, opts), startGoNode(t, "b", c, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sock, err := client.Connect(ctx, a.hs.URL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	got := make(chan int, 10)
	sock.On("m", func(n int) { got <- n })
	if _, err := sock.EmitWithAck(ctx, "join", "r1"); err != nil {
		t.Fatal(err)
	}
	if n, err := b.srv.Of("/").ServerCount(ctx); n != 2 || err != nil {
		t.Fatalf("server count %d, %v", n, err)
	}
	_ = b.srv.To("r1").Emit("m", 1)
	select {
	case n := <-got:
		if n != 1 {
			t.Fatalf("got %d", n)
		}
	case <-ctx.Done():
		t.Fatal("the broadcast from node b never came")
	}
	socks, err := b.srv.In("r1").FetchSockets(ctx)
	if err != nil || len(socks) != 1 || socks[0].ID != sock.ID() {
		t.Fatalf("fetchSockets from b: %v, %v", socks, err)
	}
}

// TestRecoveryAcrossNodes: a client loses its connection to node a and
// comes back through node b (the balancer moved): same id, its rooms, and
// every event it missed, from both nodes, once each, in order.
func TestRecoveryAcrossNodes(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	a, b := startGoNode(t, "a", c, opts), startGoNode(t, "b", c, opts)
	var to atomic.Pointer[url.URL]
	ua, _ := url.Parse(a.hs.URL)
	ub, _ := url.Parse(b.hs.URL)
	to.Store(ua)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	sock, err := client.Connect(ctx, front(t, &to), client.Options{
		Transports: []string{"websocket"}, ReconnectionDelay: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	var mu sync.Mutex
	var got []int
	sock.On("m", func(n int) { mu.Lock(); got = append(got, n); mu.Unlock() })
	if _, err := sock.EmitWithAck(ctx, "join", "r1"); err != nil {
		t.Fatal(err)
	}
	id := sock.ID()
	_ = b.srv.To("r1").Emit("m", 1) // gives the client an offset
	testkit.Eventually(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 {
			return fmt.Errorf("got %v", got)
		}
		return nil
	})

	to.Store(ub)
	_ = sock.Emit("drop")
	testkit.Eventually(t, 5*time.Second, func() error {
		if keys, _ := c.Keys(ctx, opts.SessionKeyPrefix+"*").Result(); len(keys) != 1 {
			return fmt.Errorf("%d sessions in Redis", len(keys))
		}
		return nil
	})
	_ = b.srv.To("r1").Emit("m", 2)
	_ = a.srv.Emit("m", 3)
	_ = a.srv.To("other").Emit("m", -1)
	_ = b.srv.To("r1").Emit("m", 4)

	testkit.Eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if !sock.Connected() || len(got) < 4 {
			return fmt.Errorf("connected %v, got %v", sock.Connected(), got)
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // a duplicate would show by now
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("got %v, want [1 2 3 4]", got)
	}
	if !sock.Recovered() || sock.ID() != id {
		t.Errorf("recovered %v, id %q (was %q)", sock.Recovered(), sock.ID(), id)
	}
	socks, err := a.srv.In("r1").FetchSockets(ctx)
	if err != nil || len(socks) != 1 || socks[0].ID != id {
		t.Fatalf("r1 after recovery: %v, %v", socks, err)
	}
	if d, _ := socks[0].Data.(map[string]any); d["node"] != "a" {
		t.Errorf("data after recovery: %v", socks[0].Data)
	}
}
