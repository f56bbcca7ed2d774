package testkit

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sockio/sockio"
)

// SessionBatchStore is cluster.SessionBatchStore's method set, restated:
// testkit cannot import adapter/cluster, whose own tests import testkit.
type SessionBatchStore interface {
	PersistSession(ctx context.Context, nsp string, s sockio.Session, ttl time.Duration) error
	PersistSessions(ctx context.Context, nsp string, keep []sockio.Session, ttl time.Duration, drop []string) error
	TakeSession(ctx context.Context, nsp, pid string) (*sockio.Session, error)
}

// LiveSession is the i-th session of a batch: socket-i, in its own room
// and "lobby", with a name in its data.
func LiveSession(i int) sockio.Session {
	id := "socket-" + strconv.Itoa(i)
	return sockio.Session{SID: id, PID: "pid-" + id, Rooms: []string{id, "lobby"}, Data: map[string]any{"name": "user" + strconv.Itoa(i)}}
}

// CheckPersistSessions checks that a batch keeps its sessions (more than
// a store runs at once) and forgets its drops, each readable, and taken
// once, as PersistSession's.
func CheckPersistSessions(t *testing.T, st SessionBatchStore) {
	t.Helper()
	ctx := context.Background()
	if err := st.PersistSession(ctx, "/", LiveSession(0), time.Minute); err != nil {
		t.Fatal(err)
	}
	var keep []sockio.Session
	for i := 1; i <= 40; i++ {
		keep = append(keep, LiveSession(i))
	}
	if err := st.PersistSessions(ctx, "/", keep, time.Minute, []string{LiveSession(0).PID}); err != nil {
		t.Fatalf("PersistSessions: %v", err)
	}
	if s, err := st.TakeSession(ctx, "/", LiveSession(0).PID); err != nil || s != nil {
		t.Errorf("dropped session: %v, %v", s, err)
	}
	for _, want := range keep {
		s, err := st.TakeSession(ctx, "/", want.PID)
		if err != nil || s == nil || s.SID != want.SID || len(s.Rooms) != 2 {
			t.Errorf("kept session %s: %+v, %v", want.PID, s, err)
			continue
		}
		if d, _ := s.Data.(map[string]any); d["name"] == nil {
			t.Errorf("data %v", s.Data)
		}
		if s, _ := st.TakeSession(ctx, "/", want.PID); s != nil {
			t.Errorf("session %s taken twice", want.PID)
		}
	}
}

// BenchmarkPersistSessions measures the cost of live sessions, per
// session, in batches of 256 (as the cluster core flushes them) and one by
// one.
func BenchmarkPersistSessions(b *testing.B, st SessionBatchStore) {
	ctx := context.Background()
	batch := make([]sockio.Session, 256)
	for i := range batch {
		batch[i] = LiveSession(i)
	}
	b.Run("batch256", func(b *testing.B) {
		for range b.N {
			if err := st.PersistSessions(ctx, "/", batch, time.Minute, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/session")
	})
	b.Run("single", func(b *testing.B) {
		for i := range b.N {
			if err := st.PersistSession(ctx, "/", batch[i%len(batch)], time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/session")
	})
}
