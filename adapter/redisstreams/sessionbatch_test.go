package redisstreams_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redisstreams"
)

func batchBroker(t testing.TB) (*redisstreams.Broker, string) {
	c := suiteClient(t, suiteAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis at %s (%v): start one, or set SOCKIO_TEST_REDIS", suiteAddr(), err)
	}
	prefix := fmt.Sprintf("sockio-batch-%d", time.Now().UnixNano())
	t.Cleanup(func() { dropKeys(suiteAddr(), prefix) })
	b := redisstreams.NewBroker(c, suiteOptions(prefix))
	t.Cleanup(func() { _ = b.Close() })
	return b, prefix
}

func liveSession(i int) sockio.Session {
	id := "socket-" + strconv.Itoa(i)
	return sockio.Session{SID: id, PID: "pid-" + id, Rooms: []string{id, "lobby"}, Data: map[string]any{"name": "user" + strconv.Itoa(i)}}
}

// A batch keeps its sessions and forgets its drops, each readable (and
// taken once) as PersistSession's.
func TestPersistSessions(t *testing.T) {
	b, _ := batchBroker(t)
	ctx := context.Background()
	if err := b.PersistSession(ctx, "/", liveSession(0), time.Minute); err != nil {
		t.Fatal(err)
	}
	keep := []sockio.Session{liveSession(1), liveSession(2)}
	if err := b.PersistSessions(ctx, "/", keep, time.Minute, []string{liveSession(0).PID}); err != nil {
		t.Fatalf("PersistSessions: %v", err)
	}
	if s, err := b.TakeSession(ctx, "/", liveSession(0).PID); err != nil || s != nil {
		t.Errorf("dropped session: %v, %v", s, err)
	}
	for _, want := range keep {
		s, err := b.TakeSession(ctx, "/", want.PID)
		if err != nil || s == nil || s.SID != want.SID || len(s.Rooms) != 2 {
			t.Errorf("kept session %s: %+v, %v", want.PID, s, err)
			continue
		}
		if d, _ := s.Data.(map[string]any); d["name"] == nil {
			t.Errorf("data %v", s.Data)
		}
		if s, _ := b.TakeSession(ctx, "/", want.PID); s != nil {
			t.Errorf("session %s taken twice", want.PID)
		}
	}
}

// BenchmarkPersistSessions: the Redis cost of live sessions, per session,
// in batches of 256 (one pipeline, as the core flushes them) and one by
// one (PersistSession, a round trip each).
func BenchmarkPersistSessions(b *testing.B) {
	br, _ := batchBroker(b)
	ctx := context.Background()
	batch := make([]sockio.Session, 256)
	for i := range batch {
		batch[i] = liveSession(i)
	}
	b.Run("batch256", func(b *testing.B) {
		for range b.N {
			if err := br.PersistSessions(ctx, "/", batch, time.Minute, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/session")
	})
	b.Run("single", func(b *testing.B) {
		for i := range b.N {
			if err := br.PersistSession(ctx, "/", batch[i%len(batch)], time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/session")
	})
}
