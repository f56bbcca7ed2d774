package sockio

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
)

// A client that sends faster than its handler runs: once maxPending events
// wait, the connection's reads pause (nothing more is taken off the
// socket), and once the handler catches up they resume, with every event
// handled once, in order.
func TestFloodPausesReads(t *testing.T) {
	io := NewServer(Options{})
	hs := httptest.NewServer(io)
	t.Cleanup(hs.Close)
	release := make(chan struct{})
	var (
		mu     sync.Mutex
		got    []int
		client *Client
	)
	io.OnConnection(func(s *Socket) {
		mu.Lock()
		client = s.client
		mu.Unlock()
		s.On("n", func(n int) {
			if n == 0 {
				<-release
			}
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
		})
		s.On("echo", func(e *Event) { _ = e.Ack(e.Args) })
	})
	c := dial(t, hs)
	c.connect("/")
	const n = 3 * maxPending
	for i := range n {
		c.send(fmt.Sprintf(`42["n",%d]`, i))
	}
	waitFor(t, func() bool {
		mu.Lock()
		cl := client
		mu.Unlock()
		if cl == nil {
			return false // CONNECT is answered before OnConnection runs
		}
		cl.wmu.Lock()
		defer cl.wmu.Unlock()
		return cl.paused && len(cl.work)-cl.head < n
	})
	close(release)
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	for i, v := range got {
		if v != i {
			t.Fatalf("event %d handled as %d-th", v, i)
		}
	}
	c.send(`421["echo","after"]`)
	if ack := c.read(); ack != `431["after"]` {
		t.Fatalf("ack after the flood: %q", ack)
	}
	client.wmu.Lock()
	defer client.wmu.Unlock()
	if client.paused {
		t.Fatal("still paused")
	}
}
