package redisstreams

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/testkit"
)

// blocker is a Handler that holds the reader up until released.
type blocker struct {
	recorder
	release chan struct{}
}

func (b *blocker) HandleMessage(m *cluster.Message, offset string) {
	<-b.release
	b.recorder.HandleMessage(m, offset)
}

// TestGapCountedAndLogged: the stream is trimmed past a reader that fell
// behind (its handler held it up): the entries it never read are a gap,
// counted and logged; what it reads is still in order, none twice.
func TestGapCountedAndLogged(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	opts.ReadCount = 10
	var logs testkit.LogBuffer
	opts.Logger = slogTo(&logs)
	b, w := NewBroker(c, opts), NewBroker(c, opts)
	h := &blocker{release: make(chan struct{})}
	s, err := b.Subscribe(context.Background(), "/", "reader", h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Cancel()
	ctx := context.Background()
	const n = 400
	for i := range n {
		if _, err := w.Publish(ctx, msg("w", "/", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The reader is stuck with its queue full, far behind the end.
	testkit.Eventually(t, 5*time.Second, func() error {
		if d := len(h.release); d != 0 {
			return nil
		}
		b.mu.Lock()
		q := len(b.subs["/"][0].q)
		b.mu.Unlock()
		if q < queueSize {
			return fmt.Errorf("queue %d", q)
		}
		return nil
	})
	if err := c.XTrimMaxLen(ctx, opts.StreamName, 1).Err(); err != nil {
		t.Fatal(err)
	}
	close(h.release)
	testkit.Eventually(t, 5*time.Second, func() error {
		if g := b.Stats().Gaps; g != 1 {
			return fmt.Errorf("gaps %d", g)
		}
		ms, _, _ := h.snapshot()
		if last := ms[len(ms)-1]; field(last.Data, "rooms").([]any)[0] != fmt.Sprint("room", n-1) {
			return fmt.Errorf("last message read %v", last.Data)
		}
		return nil
	})
	ms, offs, _ := h.snapshot()
	if len(ms) >= n {
		t.Fatalf("read %d of %d although the stream was trimmed", len(ms), n)
	}
	for i := 1; i < len(offs); i++ {
		a, _ := parseID(offs[i-1])
		z, _ := parseID(offs[i])
		if !a.less(z) {
			t.Fatalf("offsets out of order or twice: %s then %s", offs[i-1], offs[i])
		}
	}
	// Exact: every entry is either read or reported lost.
	if want := fmt.Sprintf("lost=%d", n-len(ms)); !strings.Contains(logs.String(), want) {
		t.Errorf("gap logged without %s: %s", want, logs.String())
	}
	if !strings.Contains(logs.String(), "trimmed past the reader") {
		t.Errorf("gap not logged: %s", logs.String())
	}
}
