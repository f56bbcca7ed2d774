package sockio

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// pollingSockets connects n in-process clients over long-polling (no
// network: requests go straight to ServeHTTP) and returns their sids.
func pollingSockets(tb testing.TB, io *Server, n int) []string {
	tb.Helper()
	sids := make([]string, n)
	for i := range sids {
		rec := httptest.NewRecorder()
		io.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
		var open struct{ SID string }
		if err := json.Unmarshal(rec.Body.Bytes()[1:], &open); err != nil {
			tb.Fatalf("handshake: %q", rec.Body.String())
		}
		sids[i] = open.SID
		post := httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+open.SID, strings.NewReader("40"))
		io.ServeHTTP(httptest.NewRecorder(), post)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(io.Of("/").Sockets()) < n {
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d sockets connected", len(io.Of("/").Sockets()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return sids
}

// drain answers one poll per session; every session must have something queued.
func drain(io *Server, sids []string) int {
	total := 0
	for _, sid := range sids {
		rec := httptest.NewRecorder()
		io.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling&sid="+sid, nil))
		total += rec.Body.Len()
	}
	return total
}

// BenchmarkBroadcast10k measures one broadcast to 10,000 in-process sockets:
// the encode (once) and the hand-off to every session's queue.
func BenchmarkBroadcast10k(b *testing.B) {
	const n = 10_000
	io := NewServer(Options{PingInterval: time.Hour, MaxBufferedPackets: 1 << 20, MaxBufferedBytes: 1 << 30})
	sids := pollingSockets(b, io, n)
	drain(io, sids)
	payload := map[string]any{"user": "alice", "text": "hello, world", "ts": 1700000000000}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := io.Emit("chat message", payload); err != nil {
			b.Fatal(err)
		}
		if i%64 == 63 {
			b.StopTimer()
			drain(io, sids)
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/delivery")
}

// BenchmarkEmitToSocket measures one emit to one socket (encode + queue).
func BenchmarkEmitToSocket(b *testing.B) {
	io := NewServer(Options{PingInterval: time.Hour, MaxBufferedPackets: 1 << 20, MaxBufferedBytes: 1 << 30})
	sids := pollingSockets(b, io, 1)
	drain(io, sids)
	s := io.Of("/").Sockets()[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Emit("chat message", "hello", 42); err != nil {
			b.Fatal(err)
		}
		if i%4096 == 4095 {
			b.StopTimer()
			drain(io, sids)
			b.StartTimer()
		}
	}
}

// TestBroadcastReachesPollingSockets checks what the benchmark relies on:
// one broadcast lands in every session's next poll, encoded once.
func TestBroadcastReachesPollingSockets(t *testing.T) {
	io := NewServer(Options{})
	sids := pollingSockets(t, io, 50)
	drain(io, sids)
	if err := io.Emit("hi", 1); err != nil {
		t.Fatal(err)
	}
	for _, sid := range sids {
		rec := httptest.NewRecorder()
		io.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling&sid="+sid, nil))
		if got := rec.Body.String(); got != `42["hi",1]` {
			t.Fatalf("sid %s got %q", sid, got)
		}
	}
}
