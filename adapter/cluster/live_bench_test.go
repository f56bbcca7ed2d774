package cluster

import (
	"strconv"
	"testing"
	"time"

	"github.com/sockio/sockio"
)

// BenchmarkLiveSessionsFlush measures the core's share of keeping live
// sessions: one flush that writes every socket of a namespace (10,000,
// each in 3 rooms with a small data map) to a MemoryBroker. The store's
// own cost is the broker's (see the redisstreams and nats benchmarks).
func BenchmarkLiveSessionsFlush(b *testing.B) {
	const sockets = 10_000
	c := &core{store: NewMemoryBroker(), opts: Options{Logger: discard()}.withDefaults()}
	c.log = c.opts.Logger
	c.sessionsNotKept = &reporter{c: c, n: &c.sessionsNotKeptN, msg: "not kept"}
	a := &Adapter{c: c, name: "/"}
	l := &liveSessions{a: a, flush: time.Second, refresh: time.Minute, ttl: 90 * time.Second, tracked: map[string]*liveEntry{}}
	snaps := make([]func() (sockio.Session, bool), sockets)
	for i := range snaps {
		id := "socket-" + strconv.Itoa(i)
		s := sockio.Session{SID: id, PID: "pid-" + id, Rooms: []string{id, "lobby", "room-" + strconv.Itoa(i%100)},
			Data: map[string]any{"name": "user" + strconv.Itoa(i)}}
		snaps[i] = func() (sockio.Session, bool) { return s, true }
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i, snap := range snaps {
			l.changed(snap1ID(i), snap)
		}
		l.flushOnce(time.Now())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*sockets), "ns/session")
}

func snap1ID(i int) string { return "socket-" + strconv.Itoa(i) }
