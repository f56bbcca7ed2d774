package redisstreams

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/internal/notepack"
)

func subscribe(t *testing.T, b *Broker, nsp, uid string) *recorder {
	t.Helper()
	r := &recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := b.Subscribe(ctx, nsp, uid, r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Cancel() })
	return r
}

// TestBrokerCarriesMessages: stream messages arrive with their entry id
// as offset, ephemeral ones over Pub/Sub without, responses only at the
// node addressed; only the stream messages are in the stream; the node
// count is the subscribers of the namespace.
func TestBrokerCarriesMessages(t *testing.T) {
	t.Run("pubsub", func(t *testing.T) { testCarries(t, false) })
	t.Run("sharded", func(t *testing.T) { testCarries(t, true) })
}

func testCarries(t *testing.T, sharded bool) {
	c := newClient(t)
	opts := testOptions(t, c)
	opts.UseShardedPubSub = sharded
	a, b := NewBroker(c, opts), NewBroker(c, opts)
	ra := subscribe(t, a, "/", "nodeA")
	rb := subscribe(t, b, "/", "nodeB")
	other := subscribe(t, b, "/other", "nodeB")
	ctx := context.Background()

	off, err := a.Publish(ctx, msg("nodeA", "/", 1))
	if err != nil || off == "" {
		t.Fatalf("publish: %q %v", off, err)
	}
	emit := &cluster.Message{UID: "nodeA", NSP: "/", Type: cluster.ServerSideEmit,
		Data: notepack.Map{{Key: "packet", Value: []any{"ev", []byte{1, 2}}}, {Key: "requestId", Value: "r1"}}}
	if off, err := a.Publish(ctx, emit); err != nil || off != "" {
		t.Fatalf("ephemeral publish: %q %v", off, err)
	}
	resp := &cluster.Message{UID: "nodeB", NSP: "/", Type: cluster.ServerSideEmitResponse,
		Data: notepack.Map{{Key: "requestId", Value: "r1"}, {Key: "packet", Value: []any{"ok"}}}}
	if err := b.PublishResponse(ctx, "nodeA", resp); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		ms, offs, _ := rb.snapshot()
		_, _, resps := ra.snapshot()
		if len(ms) != 2 || len(resps) != 1 {
			return fmt.Errorf("B got %d messages, A %d responses", len(ms), len(resps))
		}
		// Order between the stream and Pub/Sub is not defined.
		for i, m := range ms {
			if m.Type == cluster.SocketsJoin && offs[i] != off || m.Type == cluster.ServerSideEmit && offs[i] != "" {
				return fmt.Errorf("message %d type %d offset %q (published at %q)", i, m.Type, offs[i], off)
			}
		}
		return nil
	})
	_, _, bResps := rb.snapshot()
	if len(bResps) != 0 {
		t.Errorf("B got a response addressed to A: %v", bResps)
	}
	if ms, _, _ := other.snapshot(); len(ms) != 0 {
		t.Errorf("another namespace got %d messages", len(ms))
	}
	if n, _ := c.XLen(ctx, opts.StreamName).Result(); n != 1 {
		t.Errorf("stream holds %d entries, want 1 (ephemeral messages stay out)", n)
	}
	if n, err := a.ServerCount(ctx, "/"); n != 2 || err != nil {
		t.Errorf("ServerCount = %d, %v; want 2", n, err)
	}
}

// TestReaderResumesAfterRestart: Redis (with an append-only file) is
// killed and restarted while a node publishes; the reader resumes from its
// last id: every message once, in order.
func TestReaderResumesAfterRestart(t *testing.T) {
	srv := testkit.StartRedisServer(t, "--appendonly", "yes", "--appendfsync", "always", "--dir", t.TempDir())
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	opts := testOptions(t, c)
	reader, writer := NewBroker(c, opts), NewBroker(c, opts)
	r := subscribe(t, reader, "/", "reader")
	ctx := context.Background()
	sent := 0
	publish := func(n int) {
		for range n {
			testkit.Eventually(t, 10*time.Second, func() error {
				_, err := writer.Publish(ctx, msg("writer", "/", sent))
				return err
			})
			sent++
		}
	}
	publish(20)
	testkit.Eventually(t, 5*time.Second, func() error {
		if ms, _, _ := r.snapshot(); len(ms) != 20 {
			return fmt.Errorf("%d of 20", len(ms))
		}
		return nil
	})
	srv.Stop()
	srv.Start()
	publish(20) // at once: some before the reader is back
	srv.Stop()
	srv.Start()
	publish(20)
	testkit.Eventually(t, 10*time.Second, func() error {
		if ms, _, _ := r.snapshot(); len(ms) < sent {
			return fmt.Errorf("%d of %d", len(ms), sent)
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // a duplicate would show by now
	checkSequence(t, r, sent)
	if s := reader.Stats(); s.ReadErrors == 0 || s.Gaps != 0 {
		t.Errorf("stats %+v: want read errors counted and no gap", s)
	}
}

// checkSequence: messages 0..n-1 each once, in order.
func checkSequence(t *testing.T, r *recorder, n int) {
	t.Helper()
	ms, offs, _ := r.snapshot()
	if len(ms) != n {
		t.Fatalf("got %d messages, want %d", len(ms), n)
	}
	for i, m := range ms {
		rooms, _ := field(m.Data, "rooms").([]any)
		if len(rooms) != 1 || rooms[0] != fmt.Sprint("room", i) {
			t.Fatalf("message %d is %v", i, m.Data)
		}
		if i > 0 {
			a, _ := parseID(offs[i-1])
			b, _ := parseID(offs[i])
			if !a.less(b) {
				t.Fatalf("offsets out of order: %s then %s", offs[i-1], offs[i])
			}
		}
	}
}

func field(v any, key string) any {
	m, _ := v.(notepack.Map)
	x, _ := m.Get(key)
	return x
}

// TestReaderResumesAfterKill: the reader's connection is killed over and
// over while another node publishes: nothing lost, nothing twice.
func TestReaderResumesAfterKill(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	reader, writer := NewBroker(c, opts), NewBroker(c, opts)
	r := subscribe(t, reader, "/", "reader")
	ctx := context.Background()
	const n = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			for {
				if _, err := writer.Publish(ctx, msg("writer", "/", i)); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(2 * time.Millisecond) // spread over many kills
		}
	}()
	kills := 0
	for stop := false; !stop; {
		select {
		case <-done:
			stop = true
		case <-time.After(30 * time.Millisecond):
		}
		reader.mu.Lock()
		rd := reader.reader
		reader.mu.Unlock()
		rd.lanes[0].mu.Lock()
		id := rd.lanes[0].clientID
		rd.lanes[0].mu.Unlock()
		if id != 0 && c.ClientKillByFilter(ctx, "ID", fmt.Sprint(id)).Err() == nil {
			kills++
		}
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if ms, _, _ := r.snapshot(); len(ms) < n {
			return fmt.Errorf("%d of %d", len(ms), n)
		}
		return nil
	})
	time.Sleep(100 * time.Millisecond)
	checkSequence(t, r, n)
	if kills < 3 {
		t.Fatalf("the reader's connection was killed %d times only", kills)
	}
	t.Logf("%d kills, %+v", kills, reader.Stats())
}

// TestPublishFailsFast: with Redis down, a publish fails within its
// bound, the next ones at once; every one is counted, one is logged.
func TestPublishFailsFast(t *testing.T) {
	srv := testkit.StartRedisServer(t, "--appendonly", "no")
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: 5 * time.Second})
	defer c.Close()
	opts := testOptions(t, c)
	var logs testkit.LogBuffer
	opts.Logger = slogTo(&logs)
	b := NewBroker(c, opts)
	subscribe(t, b, "/", "n1")
	srv.Stop()
	start := time.Now()
	for i := range 50 {
		if _, err := b.Publish(context.Background(), msg("n1", "/", i)); err == nil {
			t.Fatal("publish succeeded with Redis down")
		}
	}
	// A bound, not a speed: 50 publishes each waiting for the dial
	// (5s here) would take minutes.
	if d := time.Since(start); d > 3*opts.withDefaults().PublishTimeout+time.Second {
		t.Errorf("50 publishes to a dead Redis took %v", d)
	}
	if s := b.Stats(); s.NotPublished != 50 {
		t.Errorf("NotPublished = %d", s.NotPublished)
	}
	if n := strings.Count(logs.String(), "publish failed"); n < 1 || n > 10 {
		t.Errorf("%d log lines for 50 failures", n)
	}
	srv.Start()
}

// TestMalformedIgnored: hostile entries and Pub/Sub messages are counted
// and logged, never a panic, and what follows still arrives.
func TestMalformedIgnored(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	var logs testkit.LogBuffer
	opts.Logger = slogTo(&logs)
	b := NewBroker(c, opts)
	r := subscribe(t, b, "/", "n1")
	ctx := context.Background()
	bad := [][]string{
		{"uid", "x", "nsp", "/", "type", "nope"},
		{"uid", "x", "nsp", "/", "type", "99"},
		{"nsp", "/", "type", "3"},
		{"uid", "x", "nsp", "/", "type", "3", "data", "{not json"},
		{"uid", "x", "nsp", "/", "type", "3", "data", "!!!not base64"},
		{"uid", "x", "nsp", "/", "type", "3", "data", "3w=="}, // msgpack truncated map32
	}
	for _, f := range bad {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: opts.StreamName, Values: f}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// No nsp: skipped silently, as the reference does.
	c.XAdd(ctx, &redis.XAddArgs{Stream: opts.StreamName, Values: []string{"foo", "bar"}})
	for _, p := range []string{"", "\xc1", "\x93\x01\x02\x03", "\x81\xa4type\xa1x", "\xdf\xff\xff\xff\xff"} {
		c.Publish(ctx, opts.ChannelPrefix+"#/#", p)
	}
	if _, err := b.Publish(ctx, msg("x", "/", 0)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		if ms, _, _ := r.snapshot(); len(ms) != 1 {
			return fmt.Errorf("%d messages", len(ms))
		}
		if s := b.Stats(); s.Malformed != uint64(len(bad)+5) {
			return fmt.Errorf("malformed %d, want %d", s.Malformed, len(bad)+5)
		}
		return nil
	})
	if !strings.Contains(logs.String(), "malformed") {
		t.Error("malformed messages not logged")
	}
}

// TestNoGoroutineLeft: cancelling the last subscription stops the reader
// at once (not after BLOCK) and every goroutine of the broker.
func TestNoGoroutineLeft(t *testing.T) {
	c := newClient(t)
	opts := testOptions(t, c)
	opts.BlockTime = 30 * time.Second
	before := runtime.NumGoroutine()
	b := NewBroker(c, opts)
	var subs []cluster.Subscription
	for _, nsp := range []string{"/", "/a", "/b"} {
		s, err := b.Subscribe(context.Background(), nsp, "n1", &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	start := time.Now()
	for _, s := range subs {
		_ = s.Cancel()
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel waited %v: the XREAD was not unblocked", d)
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines, %d before", n, before)
		}
		return nil
	})
	if _, err := b.Subscribe(context.Background(), "/", "n1", &recorder{}); err != nil {
		t.Fatalf("subscribe again: %v", err)
	}
	_ = b.Close()
	if _, err := b.Subscribe(context.Background(), "/", "n1", &recorder{}); !errors.Is(err, ErrClosed) {
		t.Errorf("subscribe after Close: %v", err)
	}
}
