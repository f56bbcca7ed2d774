package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio/adapter/cluster"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func dial(t testing.TB, url string, extra ...natsgo.Option) *natsgo.Conn {
	t.Helper()
	nc, err := Connect(url, quiet, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// testOptions are options with a prefix and stream of the test's own,
// removed when it ends.
func testOptions(t testing.TB, url string, window time.Duration) Options {
	t.Helper()
	name := randomName("t")
	o := Options{Prefix: "sockiotest." + name, StreamName: "SOCKIOTEST_" + name, Logger: quiet}
	o.Recovery.Window = window
	if window > 0 {
		t.Cleanup(func() { dropStores(url, o.StreamName) })
	}
	return o
}

func dropStores(url, stream string) {
	nc, err := natsgo.Connect(url, natsgo.Timeout(2*time.Second))
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, stream)
	_ = js.DeleteKeyValue(ctx, stream+"_sessions")
}

func newTestBroker(t testing.TB, nc *natsgo.Conn, o Options) cluster.Broker {
	t.Helper()
	b := NewBroker(nc, o)
	t.Cleanup(func() { _ = closeBroker(b) })
	return b
}

func closeBroker(b cluster.Broker) error {
	switch x := b.(type) {
	case *Broker:
		return x.Close()
	case *RecoveringBroker:
		return x.Close()
	}
	return nil
}

func statsOf(b cluster.Broker) Stats {
	switch x := b.(type) {
	case *Broker:
		return x.Stats()
	case *RecoveringBroker:
		return x.Stats()
	}
	return Stats{}
}

// got is one message a recorder received.
type got struct {
	m        *cluster.Message
	offset   string
	response bool
}

// recorder is a cluster.Handler that keeps what it receives.
type recorder struct {
	mu   sync.Mutex
	msgs []got
	ch   chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1)} }

func (r *recorder) add(g got) {
	r.mu.Lock()
	r.msgs = append(r.msgs, g)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

func (r *recorder) HandleMessage(m *cluster.Message, offset string) {
	r.add(got{m: m, offset: offset})
}

func (r *recorder) HandleResponse(m *cluster.Message) { r.add(got{m: m, response: true}) }

func (r *recorder) snapshot() []got {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]got(nil), r.msgs...)
}

// waitN waits until the recorder holds n messages matching keep.
func (r *recorder) waitN(t testing.TB, n int, keep func(got) bool) []got {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		var out []got
		for _, g := range r.snapshot() {
			if keep == nil || keep(g) {
				out = append(out, g)
			}
		}
		if len(out) >= n {
			return out
		}
		select {
		case <-r.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("got %d messages, want %d", len(out), n)
		}
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
