package nats

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/internal/notepack"
)

func recovering(t testing.TB, b cluster.Broker) *RecoveringBroker {
	t.Helper()
	r, ok := b.(*RecoveringBroker)
	if !ok {
		t.Fatalf("NewBroker with a recovery window gave %T", b)
	}
	return r
}

type logged struct {
	n      int64
	offset string
}

func readAll(t testing.TB, r *RecoveringBroker, nsp, offset string) ([]logged, error) {
	t.Helper()
	var out []logged
	err := r.ReadFrom(ctxT(t), nsp, offset, func(m *cluster.Message, off string) bool {
		n, _ := m.Data.(notepack.Map).Get("n")
		out = append(out, logged{n.(int64), off})
		return true
	})
	return out, err
}

// TestLogReadFrom: offsets increase; ReadFrom from any offset returns
// exactly the later messages of that namespace, in order, with their
// offsets; fn returning false stops it; an offset that is not a sequence,
// or past the end, is gone.
func TestLogReadFrom(t *testing.T) {
	testkit.NeedNATS(t)
	o := testOptions(t, testkit.NATSURL(), time.Minute)
	r := recovering(t, newTestBroker(t, dial(t, testkit.NATSURL()), o))
	ctx := ctxT(t)
	type pub struct {
		nsp string
		n   int64
		off uint64
	}
	var pubs []pub
	var last uint64
	for i := range 30 {
		nsp := []string{"/a", "/b", "/a.b"}[i%3]
		off, err := r.Publish(ctx, &cluster.Message{UID: "u", NSP: nsp, Type: cluster.Broadcast, Data: notepack.Map{{Key: "n", Value: i}}})
		if err != nil {
			t.Fatal(err)
		}
		seq, err := strconv.ParseUint(off, 10, 64)
		if err != nil || seq <= last {
			t.Fatalf("offset %q after %d", off, last)
		}
		last = seq
		pubs = append(pubs, pub{nsp, int64(i), seq})
	}
	for _, nsp := range []string{"/a", "/b", "/a.b"} {
		for k, from := range pubs {
			if from.nsp != nsp {
				continue
			}
			var want []logged
			for _, p := range pubs[k+1:] {
				if p.nsp == nsp {
					want = append(want, logged{p.n, strconv.FormatUint(p.off, 10)})
				}
			}
			got, err := readAll(t, r, nsp, strconv.FormatUint(from.off, 10))
			if err != nil {
				t.Fatalf("%s from %d: %v", nsp, from.off, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s from %d: got %v, want %v", nsp, from.off, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s from %d: got %v, want %v", nsp, from.off, got, want)
				}
			}
		}
	}
	// Stop early.
	n := 0
	if err := r.ReadFrom(ctx, "/a", strconv.FormatUint(pubs[0].off, 10), func(*cluster.Message, string) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Errorf("stop after 2: read %d, %v", n, err)
	}
	for _, off := range []string{"", "x", "-1", "0", "1e3", strconv.FormatUint(last+1, 10)} {
		if _, err := readAll(t, r, "/a", off); !errors.Is(err, cluster.ErrOffsetGone) {
			t.Errorf("offset %q: %v, want ErrOffsetGone", off, err)
		}
	}
}

// TestLogTrimmed: once the stream dropped messages (MaxMsgs), an offset
// before them is gone; the offset just before the first kept message still
// reads everything after it.
func TestLogTrimmed(t *testing.T) {
	testkit.NeedNATS(t)
	o := testOptions(t, testkit.NATSURL(), time.Minute)
	o.Recovery.MaxMsgs = 5
	r := recovering(t, newTestBroker(t, dial(t, testkit.NATSURL()), o))
	ctx := ctxT(t)
	var offs []string
	for i := range 12 {
		off, err := r.Publish(ctx, &cluster.Message{UID: "u", NSP: "/", Type: cluster.Broadcast, Data: notepack.Map{{Key: "n", Value: i}}})
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, off)
	}
	for _, off := range offs[:6] {
		if _, err := readAll(t, r, "/", off); !errors.Is(err, cluster.ErrOffsetGone) {
			t.Errorf("trimmed offset %s: %v, want ErrOffsetGone", off, err)
		}
	}
	got, err := readAll(t, r, "/", offs[6])
	if err != nil || len(got) != 5 || got[0].n != 7 || got[4].n != 11 {
		t.Errorf("from %s: %v, %v", offs[6], got, err)
	}
	got, err = readAll(t, r, "/", offs[11])
	if err != nil || len(got) != 0 {
		t.Errorf("from the last offset: %v, %v", got, err)
	}
}

// TestSessionTakeOnce: a persisted session comes back whole, once: of
// many takers on three nodes at once exactly one gets it; a session past
// its ttl, or never kept, is nil.
func TestSessionTakeOnce(t *testing.T) {
	testkit.NeedNATS(t)
	o := testOptions(t, testkit.NATSURL(), time.Minute)
	var nodes []*RecoveringBroker
	for range 3 {
		nodes = append(nodes, recovering(t, newTestBroker(t, dial(t, testkit.NATSURL()), o)))
	}
	ctx := ctxT(t)
	s := sockio.Session{SID: "sid1", PID: "pid/1+", Rooms: []string{"a", "b.c"}, Data: map[string]any{"user": "ann", "n": 2, "bin": []byte{1}}}
	for round := range 5 {
		if err := nodes[round%3].PersistSession(ctx, "/chat", s, time.Minute); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var taken []*sockio.Session
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := nodes[i%3].TakeSession(ctx, "/chat", s.PID)
				if err != nil {
					t.Error(err)
				}
				if got != nil {
					mu.Lock()
					taken = append(taken, got)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(taken) != 1 {
			t.Fatalf("round %d: taken %d times", round, len(taken))
		}
		g := taken[0]
		d, _ := g.Data.(map[string]any)
		if g.SID != "sid1" || g.PID != s.PID || len(g.Rooms) != 2 || g.Rooms[1] != "b.c" || d["user"] != "ann" || d["n"] != 2.0 || string(d["bin"].([]byte)) != "\x01" {
			t.Errorf("round %d: got %+v", round, g)
		}
	}
	if got, err := nodes[0].TakeSession(ctx, "/other", s.PID); got != nil || err != nil {
		t.Errorf("another namespace: %v, %v", got, err)
	}
	if err := nodes[0].PersistSession(ctx, "/chat", sockio.Session{SID: "s2", PID: "p2"}, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if got, err := nodes[1].TakeSession(ctx, "/chat", "p2"); got != nil || err != nil {
		t.Errorf("expired session: %v, %v", got, err)
	}
	if got, err := nodes[1].TakeSession(context.Background(), "/chat", "never"); got != nil || err != nil {
		t.Errorf("unknown session: %v, %v", got, err)
	}
}
