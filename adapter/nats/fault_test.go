package nats

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/internal/notepack"
)

// TestOneOrder: with the JetStream log, broadcasts and requests of two
// nodes reach every node in one order, the stream's: a request is never
// seen before a broadcast published ahead of it.
func TestOneOrder(t *testing.T) {
	testkit.NeedNATS(t)
	o := testOptions(t, testkit.NATSURL(), time.Minute)
	nodes := []cluster.Broker{newTestBroker(t, dial(t, testkit.NATSURL()), o), newTestBroker(t, dial(t, testkit.NATSURL()), o)}
	recs := []*recorder{newRecorder(), newRecorder()}
	ctx := ctxT(t)
	for i, b := range nodes {
		s, err := b.Subscribe(ctx, "/", strconv.Itoa(i), recs[i])
		if err != nil {
			t.Fatal(err)
		}
		defer s.Cancel()
	}
	done := make(chan error, 2)
	for i, b := range nodes {
		go func() {
			for n := range 40 {
				typ := cluster.Broadcast
				if n%2 == 1 {
					typ = cluster.SocketsJoin
				}
				if _, err := b.Publish(ctx, &cluster.Message{UID: strconv.Itoa(i), NSP: "/", Type: typ, Data: notepack.Map{{Key: "n", Value: n}}}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range nodes {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	var orders [][]string
	for _, r := range recs {
		msgs := r.waitN(t, 80, nil)
		var order []string
		last := map[string]int64{"0": -1, "1": -1}
		for _, g := range msgs {
			if n := number(g); n != last[g.m.UID]+1 {
				t.Fatalf("from node %s: %d after %d", g.m.UID, n, last[g.m.UID])
			}
			last[g.m.UID]++
			order = append(order, g.m.UID+":"+g.offset)
		}
		orders = append(orders, order)
	}
	if strings.Join(orders[0], ",") != strings.Join(orders[1], ",") {
		t.Errorf("two orders:\n%v\n%v", orders[0], orders[1])
	}
}

// TestPublishWhileDisconnected: with the server gone, a publish does not
// wait for it: through JetStream it fails at once; on core NATS it is
// queued in the bounded reconnect buffer, and fails past it. Both
// failures are counted.
func TestPublishWhileDisconnected(t *testing.T) {
	srv := testkit.StartNATSServer(t)
	windows := []time.Duration{time.Minute, 0}
	var brokers []cluster.Broker
	var conns []*natsgo.Conn
	for _, window := range windows {
		o := testOptions(t, srv.URL(), window)
		nc := dial(t, srv.URL(), natsgo.ReconnectBufSize(64<<10))
		b := newTestBroker(t, nc, o)
		s, err := b.Subscribe(ctxT(t), "/", "u", newRecorder())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Cancel()
		brokers, conns = append(brokers, b), append(conns, nc)
	}
	srv.Stop()
	for i, b := range brokers {
		for conns[i].IsConnected() {
			time.Sleep(10 * time.Millisecond)
		}
		big := make([]byte, 16<<10)
		start := time.Now()
		failed := 0
		for range 20 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_, err := b.Publish(ctx, &cluster.Message{UID: "u", NSP: "/", Type: cluster.Broadcast, Data: big})
			cancel()
			if err != nil {
				failed++
			}
		}
		recovery := windows[i] > 0
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("recovery %v: 20 publishes took %v with the server away", recovery, d)
		}
		st := statsOf(b)
		if failed == 0 || st.NotPublished != uint64(failed) || st.Disconnects != 1 {
			t.Errorf("recovery %v: %d failed, stats %+v", recovery, failed, st)
		}
		if recovery && failed != 20 {
			t.Errorf("JetStream publishes while disconnected: %d of 20 failed", failed)
		}
		if !recovery && failed == 20 {
			t.Errorf("core publishes while disconnected: none was queued")
		}
	}
}
