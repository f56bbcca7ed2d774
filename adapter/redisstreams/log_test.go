package redisstreams

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/cluster"
)

// TestReadFrom: the messages of a namespace after an offset, oldest
// first, across several pages, others' namespaces left out; fn stops it.
func TestReadFrom(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	opts.ReadCount = 7
	b := NewBroker(c, opts)
	ctx := context.Background()
	var offs []string
	for i := range 40 {
		off, err := b.Publish(ctx, msg("n1", "/", i))
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, off)
		if _, err := b.Publish(ctx, msg("n1", "/other", i)); err != nil {
			t.Fatal(err)
		}
	}
	r := &recorder{}
	if err := b.ReadFrom(ctx, "/", offs[9], func(m *cluster.Message, off string) bool {
		r.HandleMessage(m, off)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	ms, got, _ := r.snapshot()
	if len(ms) != 30 || got[0] != offs[10] || got[29] != offs[39] {
		t.Fatalf("read %d messages from %v to %v", len(ms), got[0], got[len(got)-1])
	}
	n := 0
	_ = b.ReadFrom(ctx, "/", offs[0], func(*cluster.Message, string) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("fn returned false at 3, called %d times", n)
	}
	n = 0
	if err := b.ReadFrom(ctx, "/", offs[39], func(*cluster.Message, string) bool { n++; return true }); err != nil || n != 0 {
		t.Errorf("from the last offset: %d messages, %v", n, err)
	}
}

// TestReadFromGone: an offset trimmed from the stream, one that never was
// an entry, and one that is not an id give ErrOffsetGone.
func TestReadFromGone(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	b := NewBroker(c, opts)
	ctx := context.Background()
	first, err := b.Publish(ctx, msg("n1", "/", 0))
	if err != nil {
		t.Fatal(err)
	}
	last, _ := b.Publish(ctx, msg("n1", "/", 1))
	id, _ := parseID(last)
	never := id.next().String() // not an entry (yet)
	for _, off := range []string{never, "", "abc", "1-2-3", "0-0"} {
		err := b.ReadFrom(ctx, "/", off, func(*cluster.Message, string) bool { return true })
		if !errors.Is(err, cluster.ErrOffsetGone) {
			t.Errorf("offset %q: %v", off, err)
		}
	}
	// Trim the stream as MAXLEN does.
	if err := c.XTrimMaxLen(ctx, opts.StreamName, 1).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.ReadFrom(ctx, "/", first, func(*cluster.Message, string) bool { return true }); !errors.Is(err, cluster.ErrOffsetGone) {
		t.Errorf("trimmed offset: %v", err)
	}
	if err := b.ReadFrom(ctx, "/", last, func(*cluster.Message, string) bool { return true }); err != nil {
		t.Errorf("kept offset: %v", err)
	}
}

// TestMaxLen: every XADD trims with MAXLEN ~, as the reference does.
func TestMaxLen(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	opts.MaxLen = 100
	b := NewBroker(c, opts)
	ctx := context.Background()
	for i := range 1000 {
		if _, err := b.Publish(ctx, msg("n1", "/", i)); err != nil {
			t.Fatal(err)
		}
	}
	// "~" trims whole radix-tree nodes (100 entries by default), so
	// the length stays within MaxLen plus one node.
	if n, _ := c.XLen(ctx, opts.StreamName).Result(); n < 100 || n > 200 {
		t.Errorf("stream length %d with MaxLen 100", n)
	}
	_ = redis.Nil
}
