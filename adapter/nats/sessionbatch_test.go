package nats_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
	sionats "github.com/sockio/sockio/adapter/nats"
)

func batchStore(t testing.TB) cluster.SessionBatchStore {
	nc, err := natsgo.Connect(suiteURL(), natsgo.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("no NATS at %s (%v): start nats-server -js, or set SOCKIO_TEST_NATS", suiteURL(), err)
	}
	nc.Close()
	name := fmt.Sprintf("sockio-batch-%d", time.Now().UnixNano())
	o := suiteOptions(name, time.Minute)
	dropCluster(t, suiteURL(), o.StreamName)
	b := sionats.NewBroker(suiteConn(t, suiteURL()), o)
	bs, ok := b.(cluster.SessionBatchStore)
	if !ok {
		t.Fatalf("%T is not a cluster.SessionBatchStore", b)
	}
	return bs
}

func liveSession(i int) sockio.Session {
	id := "socket-" + strconv.Itoa(i)
	return sockio.Session{SID: id, PID: "pid-" + id, Rooms: []string{id, "lobby"}, Data: map[string]any{"name": "user" + strconv.Itoa(i)}}
}

// A batch keeps its sessions and forgets its drops, each taken once as
// PersistSession's.
func TestPersistSessions(t *testing.T) {
	b := batchStore(t)
	ctx := context.Background()
	if err := b.PersistSession(ctx, "/", liveSession(0), time.Minute); err != nil {
		t.Fatal(err)
	}
	var keep []sockio.Session
	for i := 1; i <= 40; i++ { // more than run at once
		keep = append(keep, liveSession(i))
	}
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
		if s, _ := b.TakeSession(ctx, "/", want.PID); s != nil {
			t.Errorf("session %s taken twice", want.PID)
		}
	}
}

// BenchmarkPersistSessions: the NATS cost of live sessions, per session,
// in batches of 256 (as the core flushes them) and one by one.
func BenchmarkPersistSessions(b *testing.B) {
	st := batchStore(b)
	ctx := context.Background()
	batch := make([]sockio.Session, 256)
	for i := range batch {
		batch[i] = liveSession(i)
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
