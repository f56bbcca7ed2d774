package redis

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

func TestShortfall(t *testing.T) {
	for _, tc := range []struct {
		b    baseline
		got  int64
		self bool
		want int64
	}{
		{baseline{receivers: 2, self: true}, 2, true, 0},   // calm
		{baseline{receivers: 2, self: true}, 1, true, 1},   // the other node resubscribing
		{baseline{receivers: 2, self: true}, 0, true, 1},   // nobody: one other node missed it
		{baseline{receivers: 3, self: true}, 1, true, 2},   // two others missing
		{baseline{receivers: 2, self: true}, 3, true, 0},   // a node joined
		{baseline{receivers: 1, self: false}, 0, false, 1}, // another node's response channel
		{baseline{receivers: 1, self: true}, 0, true, 0},   // alone: nobody else to miss it
	} {
		if got := shortfall(tc.b, tc.got, tc.self); got != tc.want {
			t.Errorf("shortfall(%+v, %d, %v) = %d, want %d", tc.b, tc.got, tc.self, got, tc.want)
		}
	}
}

// The baselines stay bounded, keep the recent classes, and expire.
func TestBaselinesBounded(t *testing.T) {
	var b baselines
	now := time.Now()
	b.set("hot", baseline{2, true, now})
	for i := range 10 * maxBaselines {
		b.set(strings.Repeat("x", i%50)+string(rune(i)), baseline{1, true, now})
		if i%100 == 0 {
			b.set("hot", baseline{2, true, now})
		}
		if len(b.cur)+len(b.old) > maxBaselines {
			t.Fatalf("%d baselines", len(b.cur)+len(b.old))
		}
	}
	if v, ok := b.get("hot", now); !ok || v.receivers != 2 {
		t.Errorf("hot class forgotten: %+v %v", v, ok)
	}
	if _, ok := b.get("hot", now.Add(baselineTTL)); ok {
		t.Error("stale baseline trusted")
	}
}

// A burst is one line at once, then one with the rest when stopped (or
// at the end of the interval); totals run on.
func TestReporterNeverSilent(t *testing.T) {
	var logs testkit.LogBuffer
	var total atomic.Uint64
	r := newReporter(debugLogger(&logs), "dropped", &total)
	for range 100 {
		r.add(1, "err", "x")
	}
	if n := strings.Count(logs.String(), "dropped"); n != 1 {
		t.Fatalf("%d lines for a burst:\n%s", n, logs.String())
	}
	r.stop()
	out := logs.String()
	if !strings.Contains(out, "count=1 total=1") || !strings.Contains(out, "count=99 total=100") {
		t.Errorf("log:\n%s", out)
	}
	r.stop()
	if strings.Count(logs.String(), "dropped") != 2 {
		t.Errorf("a stop with nothing pending logged:\n%s", logs.String())
	}
}
