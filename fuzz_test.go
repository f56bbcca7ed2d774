package sockio

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzServerPayload posts arbitrary polling payloads to a live server with
// handlers on it: whatever arrives, the server must not panic, and it must
// keep serving a well-behaved client afterwards.
func FuzzServerPayload(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzServerPayload.
	io := NewServer(Options{PingInterval: time.Hour, ConnectTimeout: time.Hour})
	io.Of("/admin").Use(func(s *Socket) error { return &ConnectError{Message: "no"} })
	io.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = e.Ack(e.Args) })
		s.On("typed", func(n int, m map[string]any, ack Ack) { ack(n, m) })
		s.On("bin", func(b []byte, ack Ack) { ack(b) })
	})
	f.Fuzz(func(t *testing.T, payload string) {
		sids := pollingSockets(t, io, 1)
		post := httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+sids[0], strings.NewReader(payload))
		rec := httptest.NewRecorder()
		io.ServeHTTP(rec, post)
		if rec.Code != 200 && rec.Code != 400 && rec.Code != 413 {
			t.Fatalf("POST answered %d", rec.Code)
		}
		closeSession(io, sids[0])
		// A fresh client still gets served.
		fresh := pollingSockets(t, io, 1)[0]
		post = httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+fresh, strings.NewReader(`421["echo","ok"]`))
		io.ServeHTTP(httptest.NewRecorder(), post)
		var got string
		for i := 0; i < 3 && !strings.Contains(got, `431["ok"]`); i++ {
			got += poll(io, fresh)
		}
		if !strings.Contains(got, `431["ok"]`) {
			t.Fatalf("fresh client got %q", got)
		}
		closeSession(io, fresh)
	})
}

// poll answers one GET, giving up after a second.
func poll(io *Server, sid string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling&sid="+sid, nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	io.ServeHTTP(rec, req)
	return rec.Body.String()
}

func closeSession(io *Server, sid string) {
	req := httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader("1"))
	io.ServeHTTP(httptest.NewRecorder(), req)
}
