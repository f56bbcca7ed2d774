package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
	"github.com/sockio/sockio/internal/notepack"
)

var fastPeers = PeersOptions{Interval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}

func startPeers(t *testing.T, b Broker, node, u string) *Peers {
	t.Helper()
	return startPeersWith(t, b, node, u, fastPeers)
}

func startPeersWith(t *testing.T, b Broker, node, u string, o PeersOptions) *Peers {
	t.Helper()
	o.Node, o.URL = node, u
	p, err := NewPeers(b, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
	}
}

func TestPeersDirectory(t *testing.T) {
	b := NewMemoryBroker()
	a := startPeers(t, b, "a", "http://10.0.0.1:3000")
	c := startPeers(t, b, "c", "http://10.0.0.3:3000")
	eventually(t, "a and c do not know each other", func() bool {
		u1, ok1 := a.Lookup("c")
		u2, ok2 := c.Lookup("a")
		return ok1 && ok2 && u1 == "http://10.0.0.3:3000" && u2 == "http://10.0.0.1:3000"
	})
	if u, ok := a.Pick(); !ok || u != "http://10.0.0.3:3000" {
		t.Fatalf("a.Pick() = %q, %v", u, ok)
	}
	if _, ok := a.Lookup("a"); ok {
		t.Fatal("a lists itself")
	}
	// A draining node is still found for its sessions, never picked.
	c.Drain()
	eventually(t, "c's draining not seen", func() bool { _, ok := a.Pick(); return !ok })
	if _, ok := a.Lookup("c"); !ok {
		t.Fatal("a draining node is no longer found")
	}
	// A node that leaves is gone at once.
	_ = c.Close()
	eventually(t, "c still listed after Close", func() bool { _, ok := a.Lookup("c"); return !ok })
}

func TestPeersForgetSilentNodes(t *testing.T) {
	b := NewMemoryBroker()
	a := startPeers(t, b, "a", "http://10.0.0.1:3000")
	// A node that says it is here once and never again (it was killed).
	_, _ = b.Publish(context.Background(), &Message{UID: "dead", NSP: PeersNamespace, Type: Heartbeat,
		Data: notepack.Map{{Key: "url", Value: "http://10.0.0.9:3000"}}})
	eventually(t, "the dead node was never listed", func() bool { _, ok := a.Lookup("dead"); return ok })
	eventually(t, "the dead node is still listed", func() bool { _, ok := a.Lookup("dead"); return !ok })
}

func TestPeersIgnoreHostileMessages(t *testing.T) {
	b := NewMemoryBroker()
	// Nodes expire after 3 intervals: with fastPeers' the first of the
	// flood below could expire before the last arrives on a busy machine.
	o := fastPeers
	o.Interval = time.Minute
	a := startPeersWith(t, b, "a", "http://10.0.0.1:3000", o)
	bad := []any{
		nil, "x", 42, notepack.Map{{Key: "url", Value: 7}},
		notepack.Map{{Key: "url", Value: "javascript:alert(1)"}},
		notepack.Map{{Key: "url", Value: "http://" + strings.Repeat("h", 600)}},
		notepack.Map{{Key: "url", Value: "/relative"}},
	}
	for i, d := range bad {
		_, _ = b.Publish(context.Background(), &Message{UID: fmt.Sprint("h", i), NSP: PeersNamespace, Type: Heartbeat, Data: d})
	}
	// A good message after them: once it is listed, the broker has
	// delivered the hostile ones (one subscription delivers in order).
	_, _ = b.Publish(context.Background(), &Message{UID: "sentinel", NSP: PeersNamespace, Type: Heartbeat,
		Data: notepack.Map{{Key: "url", Value: "http://10.2.0.1:1"}}})
	eventually(t, "the sentinel was never listed", func() bool { _, ok := a.Lookup("sentinel"); return ok })
	for _, n := range a.Live() {
		if strings.HasPrefix(n, "h") {
			t.Fatalf("hostile message listed node %q", n)
		}
	}
	// Floods of new names are bounded.
	for i := range maxPeers + 100 {
		_, _ = b.Publish(context.Background(), &Message{UID: fmt.Sprint("n", i), NSP: PeersNamespace, Type: InitialHeartbeat,
			Data: notepack.Map{{Key: "url", Value: "http://10.1.0.1:1"}}})
	}
	eventually(t, "the flood never filled the directory", func() bool { return len(a.Live()) >= maxPeers })
	live := a.Live()
	if len(live) > maxPeers {
		t.Fatalf("%d nodes listed, bound %d", len(live), maxPeers)
	}
}

func TestNewPeersChecksOptions(t *testing.T) {
	for _, o := range []PeersOptions{{URL: ""}, {URL: "10.0.0.1:3000"}, {URL: "ftp://x"}, {Node: "a.b", URL: "http://x:1"}} {
		if _, err := NewPeers(NewMemoryBroker(), o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// roundRobin sends each request to the next of urls, as a balancer
// without sticky sessions does.
type roundRobin struct {
	urls []*url.URL
	n    atomic.Uint64
	mu   sync.Mutex
	hits map[string]int
}

func (rr *roundRobin) RoundTrip(r *http.Request) (*http.Response, error) {
	u := rr.urls[rr.n.Add(1)%uint64(len(rr.urls))]
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
	rr.mu.Lock()
	rr.hits[u.Host]++
	rr.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestNoStickySessions: a polling client whose every request goes to the
// next node of two chats as with one node.
func TestNoStickySessions(t *testing.T) {
	b := NewMemoryBroker()
	var nodes []*httptest.Server
	var dirs []*Peers
	for i := range 2 {
		var h atomic.Pointer[sockio.Server]
		hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().ServeHTTP(w, r) }))
		u := "http://" + hs.Listener.Addr().String()
		peers := startPeers(t, b, fmt.Sprint("n", i), u)
		srv := sockio.NewServer(sockio.Options{Adapter: NewAdapter(b, fastHeartbeats), Forwarding: peers.Forwarding()})
		srv.OnConnection(func(s *sockio.Socket) {
			s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
			s.On("shout", func(e *sockio.Event) { _ = srv.Emit("heard", e.Args) })
		})
		h.Store(srv)
		hs.Start()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Close(ctx)
			hs.Close()
		})
		nodes, dirs = append(nodes, hs), append(dirs, peers)
	}
	eventually(t, "the nodes do not know each other", func() bool {
		_, ok := dirs[0].Lookup("n1")
		_, ok2 := dirs[1].Lookup("n0")
		return ok && ok2
	})
	rr := &roundRobin{hits: map[string]int{}}
	for _, n := range nodes {
		u, _ := url.Parse(n.URL)
		rr.urls = append(rr.urls, u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, nodes[0].URL, client.Options{
		Transports:          []string{client.Polling},
		HTTPClient:          &http.Client{Transport: rr},
		DisableReconnection: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	heard := make(chan string, 16)
	c.On("heard", func(s string) { heard <- s })
	for i := range 10 {
		res, err := c.EmitWithAck(ctx, "echo", fmt.Sprint("m", i))
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		var got string
		if err := res.Decode(0, &got); err != nil || got != fmt.Sprint("m", i) {
			t.Fatalf("echo %d answered %q, %v", i, got, err)
		}
	}
	if err := c.Emit("shout", "hi"); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-heard:
		if s != "hi" {
			t.Fatalf("heard %q", s)
		}
	case <-ctx.Done():
		t.Fatal("broadcast not received")
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	hosts := make([]int, 0, 2)
	for _, n := range rr.hits {
		hosts = append(hosts, n)
	}
	if len(hosts) != 2 || slices.Min(hosts) < 3 {
		t.Fatalf("requests per node %v: the balancer did not spread them", rr.hits)
	}
}
