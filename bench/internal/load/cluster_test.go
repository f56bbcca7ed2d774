package load

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
)

// startNode runs a sockio server with the broadcast event of
// bench/contract.md, as a node of the cluster of broker b.
func startNode(t *testing.T, b *cluster.MemoryBroker, recovery bool) string {
	t.Helper()
	opts := sockio.Options{Adapter: cluster.NewAdapter(b, cluster.Options{})}
	if recovery {
		opts.ConnectionStateRecovery = &sockio.RecoveryOptions{MaxDisconnectionDuration: time.Minute}
	}
	io := sockio.NewServer(opts)
	io.OnConnection(func(s *sockio.Socket) {
		s.On("broadcast", func(e *sockio.Event) {
			_ = io.Emit("broadcast", e.Args)
			_ = e.Ack()
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: io, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = sockio.Serve(ln, hs) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		_ = hs.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func TestCrossNodeSteps(t *testing.T) {
	b := cluster.NewMemoryBroker()
	a, bAddr := startNode(t, b, false), startNode(t, b, false)
	const n = 20
	rs, err := BroadcastSteps(context.Background(), Config{Addr: bAddr, Target: "test", Timeout: 30 * time.Second},
		BroadcastParams{N: n, PubAddr: a, Singles: 2, Rates: []float64{40, 80}, Window: 64,
			Warmup: 100 * time.Millisecond, Duration: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		t.Fatal("no result")
	}
	for i, r := range rs {
		if r.Scenario != "crossnode" || r.Params["step"] != i {
			t.Errorf("result %d: scenario %q step %v", i, r.Scenario, r.Params["step"])
		}
		sent, got := r.Metrics["broadcasts_sent"], r.Metrics["deliveries"]
		// The sender is on the other node and not a receiver: each
		// broadcast reaches the n clients of node B, once.
		if sent == 0 || got != sent*n || r.Metrics["lost"] != 0 {
			t.Errorf("step %d: %v broadcasts, %v deliveries (want %v), lost %v", i, sent, got, sent*n, r.Metrics["lost"])
		}
		if r.Metrics["delivered_per_s"] <= 0 || r.Metrics["fanout_p99_ms"] <= 0 {
			t.Errorf("step %d: no throughput or latency: %v", i, r.Metrics)
		}
	}
	if rs[0].Metrics["single_incomplete"] != 0 || rs[0].Metrics["single_all_p50_ms"] <= 0 {
		t.Errorf("lone broadcasts: %v", rs[0].Metrics)
	}
}

func TestRecoverAcrossNodes(t *testing.T) {
	b := cluster.NewMemoryBroker()
	a, bAddr := startNode(t, b, true), startNode(t, b, true)
	rs, err := Recover(context.Background(), Config{Addr: bAddr, Target: "test", Timeout: 30 * time.Second},
		RecoverParams{PubAddr: a, Ks: []int{5, 200}, Settle: 100 * time.Millisecond, WaitFor: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2", len(rs))
	}
	for _, r := range rs {
		k := r.Metrics["k"]
		if r.Metrics["recovered"] != 1 || r.Metrics["missed_received"] != k {
			t.Errorf("K=%v: recovered %v, %v events back; notes %v", k, r.Metrics["recovered"], r.Metrics["missed_received"], r.Notes)
		}
		if r.Metrics["duplicates"] != 0 || r.Metrics["out_of_order"] != 0 || r.Metrics["other_events"] != 0 {
			t.Errorf("K=%v: %v", k, r.Metrics)
		}
		if r.Metrics["recovery_ms"] <= 0 {
			t.Errorf("K=%v: no recovery time", k)
		}
	}
}

func TestRecoverNeedsRecovery(t *testing.T) {
	b := cluster.NewMemoryBroker()
	a, bAddr := startNode(t, b, false), startNode(t, b, false)
	_, err := Recover(context.Background(), Config{Addr: bAddr, Target: "test", Timeout: 10 * time.Second},
		RecoverParams{PubAddr: a, Ks: []int{5}, WaitFor: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "recovery is off") {
		t.Fatalf("err = %v, want the server's recovery to be off", err)
	}
}
