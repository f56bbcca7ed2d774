package nats

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/internal/notepack"
)

// Namespace names that are not subject tokens as they are.
var oddNamespaces = []string{"/", "/chat", "/a.b", "/*", "/>", "/a b", "", "/ü", "/%2F", "/a.>"}

// TestBrokerRoundTrip: on core NATS and through JetStream, a message
// published to a namespace reaches every node subscribed to it (the
// sender's too) once, with its fields intact, and no node of another
// namespace; a response reaches its node only; heartbeats arrive without
// an offset.
func TestBrokerRoundTrip(t *testing.T) {
	testkit.NeedNATS(t)
	for _, mode := range []struct {
		name   string
		window time.Duration
	}{{"core", 0}, {"jetstream", time.Minute}} {
		t.Run(mode.name, func(t *testing.T) {
			o := testOptions(t, testkit.NATSURL(), mode.window)
			b1 := newTestBroker(t, dial(t, testkit.NATSURL()), o)
			b2 := newTestBroker(t, dial(t, testkit.NATSURL()), o)
			ctx := ctxT(t)
			for i, nsp := range oddNamespaces {
				r1, r2 := newRecorder(), newRecorder()
				s1, err := b1.Subscribe(ctx, nsp, "node1", r1)
				if err != nil {
					t.Fatalf("subscribe %q: %v", nsp, err)
				}
				s2, err := b2.Subscribe(ctx, nsp, "node.2*", r2)
				if err != nil {
					t.Fatalf("subscribe %q: %v", nsp, err)
				}
				data := notepack.Map{{Key: "packet", Value: notepack.Map{{Key: "z", Value: 1}, {Key: "a", Value: []byte{0, 1}}}}, {Key: "n", Value: i}}
				off, err := b1.Publish(ctx, &cluster.Message{UID: "node1", NSP: nsp, Type: cluster.Broadcast, Data: data})
				if err != nil {
					t.Fatalf("publish %q: %v", nsp, err)
				}
				if (mode.window > 0) != (off != "") {
					t.Errorf("%q: offset %q", nsp, off)
				}
				if _, err := b2.Publish(ctx, &cluster.Message{UID: "node.2*", NSP: nsp, Type: cluster.Heartbeat}); err != nil {
					t.Fatal(err)
				}
				if err := b2.PublishResponse(ctx, "node1", &cluster.Message{UID: "node.2*", NSP: nsp, Type: cluster.FetchSocketsResponse, Data: notepack.Map{{Key: "requestId", Value: "x"}}}); err != nil {
					t.Fatal(err)
				}
				for _, r := range []*recorder{r1, r2} {
					msgs := r.waitN(t, 2, func(g got) bool { return !g.response })
					for _, g := range msgs {
						if g.m.NSP != nsp {
							t.Errorf("%q: message of %q", nsp, g.m.NSP)
						}
						switch g.m.Type {
						case cluster.Broadcast:
							if g.offset != off {
								t.Errorf("%q: offset %q, published at %q", nsp, g.offset, off)
							}
							if fmt.Sprint(g.m.Data) != fmt.Sprint(normalize(data)) || g.m.UID != "node1" {
								t.Errorf("%q: got %+v", nsp, g.m)
							}
						case cluster.Heartbeat:
							if g.offset != "" || g.m.UID != "node.2*" {
								t.Errorf("%q: heartbeat %+v at %q", nsp, g.m, g.offset)
							}
						}
					}
				}
				resp := r1.waitN(t, 1, func(g got) bool { return g.response })
				if resp[0].m.Type != cluster.FetchSocketsResponse {
					t.Errorf("%q: response %+v", nsp, resp[0].m)
				}
				time.Sleep(50 * time.Millisecond) // room for a duplicate or a stray
				if n := len(r1.snapshot()); n != 3 {
					t.Errorf("%q: node1 got %d messages, want 3", nsp, n)
				}
				if n := len(r2.snapshot()); n != 2 {
					t.Errorf("%q: node2 got %d messages, want 2 (responses to node1 are not its)", nsp, n)
				}
				for _, s := range []cluster.Subscription{s1, s2} {
					if err := s.Cancel(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}

// TestCancelStopsDelivery: after Cancel returns, the handler is not called
// again, and a namespace's subscribers do not see another's messages.
func TestCancelStopsDelivery(t *testing.T) {
	testkit.NeedNATS(t)
	o := testOptions(t, testkit.NATSURL(), time.Minute)
	b := newTestBroker(t, dial(t, testkit.NATSURL()), o)
	ctx := ctxT(t)
	ra, rb := newRecorder(), newRecorder()
	sa, err := b.Subscribe(ctx, "/a", "u", ra)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Subscribe(ctx, "/b", "u", rb)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Cancel()
	if _, err := b.Publish(ctx, &cluster.Message{UID: "u", NSP: "/a", Type: cluster.Broadcast}); err != nil {
		t.Fatal(err)
	}
	ra.waitN(t, 1, nil)
	if err := sa.Cancel(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, &cluster.Message{UID: "u", NSP: "/a", Type: cluster.Broadcast}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, &cluster.Message{UID: "u", NSP: "/b", Type: cluster.Broadcast}); err != nil {
		t.Fatal(err)
	}
	rb.waitN(t, 1, nil)
	time.Sleep(100 * time.Millisecond)
	if n := len(ra.snapshot()); n != 1 {
		t.Errorf("/a got %d messages after cancel, want 1", n)
	}
	if n := len(rb.snapshot()); n != 1 {
		t.Errorf("/b got %d messages, want 1", n)
	}
}

// TestMalformedCounted: bytes that are not a cluster message, published on
// every subject a node listens to, are counted and dropped: no panic, no
// handler call; a good message after them still arrives.
func TestMalformedCounted(t *testing.T) {
	testkit.NeedNATS(t)
	for _, window := range []time.Duration{0, time.Minute} {
		t.Run(strconv.FormatBool(window > 0), func(t *testing.T) {
			o := testOptions(t, testkit.NATSURL(), window)
			nc := dial(t, testkit.NATSURL())
			b := newTestBroker(t, nc, o)
			ctx := ctxT(t)
			r := newRecorder()
			s, err := b.Subscribe(ctx, "/", "me", r)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Cancel()
			sj := newSubjects(o.Prefix, "/")
			bad := [][]byte{nil, {0xc1}, []byte("{}"), {0x80}, {0x93, 1, 2, 3}, {0xdf, 0xff, 0xff, 0xff, 0xff},
				mustMarshal(t, notepack.Map{{Key: "type", Value: "x"}}),
				mustMarshal(t, notepack.Map{{Key: "type", Value: 3}, {Key: "uid", Value: 1}}),
				mustMarshal(t, notepack.Map{{Key: "type", Value: -1}, {Key: "uid", Value: "a"}, {Key: "nsp", Value: "/"}})}
			for _, p := range bad {
				for _, subj := range []string{sj.nsp, sj.heartbeat, sj.response("me")} {
					if err := nc.Publish(subj, p); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := b.Publish(ctx, &cluster.Message{UID: "x", NSP: "/", Type: cluster.Broadcast}); err != nil {
				t.Fatal(err)
			}
			r.waitN(t, 1, nil)
			want := uint64(3 * len(bad))
			deadline := time.Now().Add(5 * time.Second)
			for statsOf(b).Malformed < want && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if got := statsOf(b).Malformed; got != want {
				t.Errorf("malformed %d, want %d", got, want)
			}
			if n := len(r.snapshot()); n != 1 {
				t.Errorf("handler called %d times, want 1", n)
			}
		})
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	b, err := notepack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNoGoroutineLeak: subscriptions cancelled, brokers closed and
// connections closed leave no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	testkit.NeedNATS(t)
	before := runtime.NumGoroutine()
	func() {
		o := testOptions(t, testkit.NATSURL(), time.Minute)
		nc, err := Connect(testkit.NATSURL(), quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		b := NewBroker(nc, o)
		ctx := ctxT(t)
		for i := range 5 {
			s, err := b.Subscribe(ctx, "/n"+strconv.Itoa(i), "u", newRecorder())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Publish(ctx, &cluster.Message{UID: "u", NSP: "/n" + strconv.Itoa(i), Type: cluster.Broadcast}); err != nil {
				t.Fatal(err)
			}
			if err := s.Cancel(); err != nil {
				t.Fatal(err)
			}
		}
		_ = closeBroker(b)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines, %d before:\n%s", n, before, strings.TrimSpace(string(buf)))
	}
}
