package nats

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/internal/notepack"
)

// TestServerRestart: nats-server (JetStream on disk) is killed and started
// again while a node broadcasts. Both nodes hear again after it; no
// message is delivered twice; with the JetStream log, every broadcast whose
// publish succeeded reaches every node, those sent before, during and
// after the outage alike.
func TestServerRestart(t *testing.T) {
	for _, mode := range []struct {
		name   string
		window time.Duration
	}{{"core", 0}, {"jetstream", time.Minute}} {
		t.Run(mode.name, func(t *testing.T) {
			srv := testkit.StartNATSServer(t)
			o := testOptions(t, srv.URL(), mode.window)
			nodes := []cluster.Broker{newTestBroker(t, dial(t, srv.URL()), o), newTestBroker(t, dial(t, srv.URL()), o)}
			recs := []*recorder{newRecorder(), newRecorder()}
			ctx := ctxT(t)
			for i, b := range nodes {
				s, err := b.Subscribe(ctx, "/", "n"+string(rune('0'+i)), recs[i])
				if err != nil {
					t.Fatal(err)
				}
				defer s.Cancel()
			}
			var mu sync.Mutex
			published := map[int64]bool{}
			publish := func(from, to int) {
				for n := from; n < to; n++ {
					pctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					_, err := nodes[0].Publish(pctx, &cluster.Message{UID: "n0", NSP: "/", Type: cluster.Broadcast, Data: notepack.Map{{Key: "n", Value: n}}})
					cancel()
					if err == nil {
						mu.Lock()
						published[int64(n)] = true
						mu.Unlock()
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
			publish(0, 50)
			done := make(chan struct{})
			go func() { defer close(done); publish(50, 300) }()
			time.Sleep(100 * time.Millisecond)
			srv.Kill()
			time.Sleep(300 * time.Millisecond)
			srv.Start()
			<-done
			// After the restart: both nodes hear again.
			waitConnected(t, nodes)
			publishAfter := func() {
				for n := 1000; n < 1020; n++ {
					pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					if _, err := nodes[0].Publish(pctx, &cluster.Message{UID: "n0", NSP: "/", Type: cluster.Broadcast, Data: notepack.Map{{Key: "n", Value: n}}}); err != nil {
						t.Fatalf("publish after the restart: %v", err)
					}
					mu.Lock()
					published[int64(n)] = true
					mu.Unlock()
				}
			}
			if mode.window == 0 {
				// Core subscriptions come back with the reconnect, not
				// before: wait until a probe gets through.
				probe(t, nodes, recs)
			}
			publishAfter()
			for i, r := range recs {
				r.waitN(t, 1, func(g got) bool { return g.m.Type == cluster.Broadcast && number(g) == 1019 })
				time.Sleep(100 * time.Millisecond)
				seen := map[int64]int{}
				for _, g := range r.snapshot() {
					if g.m.Type == cluster.Broadcast {
						seen[number(g)]++
					}
				}
				for n, c := range seen {
					if c > 1 {
						t.Errorf("node %d: message %d delivered %d times", i, n, c)
					}
				}
				mu.Lock()
				missing := 0
				for n := range published {
					if seen[n] == 0 && (mode.window > 0 || n >= 1000) {
						missing++
					}
				}
				total := len(published)
				mu.Unlock()
				if missing > 0 {
					t.Errorf("node %d: %d of %d published messages missing", i, missing, total)
				}
				t.Logf("node %d: %d received, %d published successfully, stats %+v", i, len(seen), total, statsOf(nodes[i]))
			}
			if st := statsOf(nodes[0]); st.Disconnects == 0 || st.Deaf == 0 {
				t.Errorf("the outage is not in the stats: %+v", st)
			}
		})
	}
}

func number(g got) int64 {
	m, _ := g.m.Data.(notepack.Map)
	n, _ := m.Get("n")
	v, _ := n.(int64)
	return v
}

func waitConnected(t *testing.T, nodes []cluster.Broker) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, b := range nodes {
		var nc interface{ IsConnected() bool }
		switch x := b.(type) {
		case *Broker:
			nc = x.nc
		case *RecoveringBroker:
			nc = x.nc
		}
		for !nc.IsConnected() {
			if time.Now().After(deadline) {
				t.Fatal("not reconnected")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// probe publishes heartbeats until every node hears one.
func probe(t *testing.T, nodes []cluster.Broker, recs []*recorder) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		start := make([]int, len(recs))
		for i, r := range recs {
			start[i] = len(r.snapshot())
		}
		_, _ = nodes[0].Publish(context.Background(), &cluster.Message{UID: "probe", NSP: "/", Type: cluster.Heartbeat})
		time.Sleep(100 * time.Millisecond)
		ok := true
		for i, r := range recs {
			if len(r.snapshot()) == start[i] {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nodes do not hear each other after the restart")
		}
	}
}
