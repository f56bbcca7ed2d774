package redisstreams

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sockio/sockio"
)

// TestSessionTakenOnce: a persisted session comes back once, to one of
// several nodes asking at the same time, with its rooms and data in JSON
// form, and expires after its TTL.
func TestSessionTakenOnce(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	a, b := NewBroker(c, opts), NewBroker(c, opts)
	ctx := context.Background()
	type data struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	s := sockio.Session{SID: "sid-1", PID: "pid-1", Rooms: []string{"sid-1", "r"}, Data: data{"ann", 3}}
	if err := a.PersistSession(ctx, "/", s, time.Minute); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := c.PTTL(ctx, opts.SessionKeyPrefix+"pid-1").Result(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL %v", ttl)
	}
	var mu sync.Mutex
	var got []*sockio.Session
	var wg sync.WaitGroup
	for _, br := range []*Broker{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := br.TakeSession(ctx, "/", "pid-1")
			if err != nil {
				t.Error(err)
			}
			if s != nil {
				mu.Lock()
				got = append(got, s)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != 1 {
		t.Fatalf("taken %d times", len(got))
	}
	want := &sockio.Session{SID: "sid-1", PID: "pid-1", Rooms: []string{"sid-1", "r"},
		Data: map[string]any{"name": "ann", "n": float64(3)}}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("got %+v, want %+v", got[0], want)
	}

	if err := a.PersistSession(ctx, "/", sockio.Session{SID: "s2", PID: "pid-2"}, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if s, err := b.TakeSession(ctx, "/", "pid-2"); s != nil || err != nil {
		t.Errorf("expired session: %+v, %v", s, err)
	}
	// A corrupt session is counted and treated as none.
	c.Set(ctx, opts.SessionKeyPrefix+"pid-3", "%%%", time.Minute)
	if s, err := b.TakeSession(ctx, "/", "pid-3"); s != nil || err != nil || b.Stats().Malformed != 1 {
		t.Errorf("corrupt session: %+v, %v, %+v", s, err, b.Stats())
	}
}
