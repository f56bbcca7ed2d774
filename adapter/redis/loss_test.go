package redis

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

// collector drains a client's events in the background and keeps the
// sequence numbers of the events named name.
type collector struct {
	mu   sync.Mutex
	got  map[int]int // sequence → times received
	last map[string]bool
	stop chan struct{}
	done chan struct{}
}

func collect(c *testkit.Client, name string) *collector {
	col := &collector{got: map[int]int{}, last: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(col.done)
		for {
			select {
			case <-col.stop:
				return
			default:
			}
			if ev, err := c.Next(50 * time.Millisecond); err == nil {
				col.mu.Lock()
				switch ev.Name {
				case name:
					var n int
					if len(ev.Args) > 0 {
						_, _ = fmt.Sscan(string(ev.Args[0]), &n)
						col.got[n]++
					}
				default:
					col.last[ev.String()] = true
				}
				col.mu.Unlock()
			}
		}
	}()
	return col
}

func (c *collector) close() {
	close(c.stop)
	<-c.done
}

// distinct is how many different sequence numbers below n arrived.
func (c *collector) distinct(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := 0
	for i := range n {
		if c.got[i] > 0 {
			k++
		}
	}
	return k
}

func (c *collector) has(ev string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[ev]
}

// Two nodes broadcast to each other while Redis restarts: every message
// either reaches the other node or is counted as dropped by its sender
// (not published, or published to fewer subscribers than before), and
// nothing is counted while Redis stays up. The case: Redis back,
// one node resubscribed and publishing, the other not yet subscribed.
//
// A restart (SIGTERM) must account for every message. A crash (SIGKILL)
// may lose a message or two that Redis had counted as delivered: it
// writes the publisher's answer before the subscriber's copy, and a kill
// between the two loses the copy. That is allowed for, and no more.
func TestRestartLossCounted(t *testing.T) {
	for _, stop := range []struct {
		name      string
		sig       os.Signal
		tolerance int
	}{{"restart", syscall.SIGTERM, 0}, {"crash", os.Kill, 2}} {
		t.Run(stop.name, func(t *testing.T) { testRestartLoss(t, stop.sig, stop.tolerance) })
	}
}

func testRestartLoss(t *testing.T, sig os.Signal, tolerance int) {
	faultModes(t, func(t *testing.T, opts Options) {
		testkit.CheckGoroutines(t)
		rs := testkit.NewRedisServer(t)
		rs.Start()
		opts.Key = uniqueKey(t)
		a := startNode(t, "a", rs.Addr(), opts)
		b := startNode(t, "b", rs.Addr(), opts)
		waitCluster(t, []*node{a, b}, 2)
		ca := dialClient(t, a.url(), "ca", nil)
		cb := dialClient(t, b.url(), "cb", nil)
		atA, atB := collect(ca, "from-b"), collect(cb, "from-a")
		defer atA.close()
		defer atB.close()

		// Each sends n numbered broadcasts, about one per millisecond; fn
		// runs after the first third. Then both wait until a marker sent after
		// the last one came through (Redis keeps the order of a publisher).
		round := func(phase string, n int, fn func()) {
			var wg sync.WaitGroup
			for _, s := range []*node{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range n {
						_ = s.srv.Emit("from-"+s.name, i)
						time.Sleep(time.Millisecond)
					}
				}()
			}
			time.Sleep(time.Duration(n/3) * time.Millisecond)
			if fn != nil {
				fn()
			}
			wg.Wait()
			for i, pair := range [][2]any{{a, atB}, {b, atA}} {
				s, col := pair[0].(*node), pair[1].(*collector)
				testkit.Eventually(t, 15*time.Second, func() error {
					mark := fmt.Sprintf("end-%s-%d", phase, i)
					_ = s.srv.Emit(mark)
					time.Sleep(50 * time.Millisecond)
					if !col.has(mark) {
						return fmt.Errorf("%s: %s did not come through", phase, mark)
					}
					return nil
				})
			}
		}

		const calm = 400
		round("calm", calm, nil)
		for _, s := range []*node{a, b} {
			st := s.adapter().Stats()
			if st.Dropped() != 0 || st.SubscriberGaps != 0 {
				t.Errorf("%s with Redis up: %+v", s.name, st)
			}
		}
		if atA.distinct(calm) != calm || atB.distinct(calm) != calm {
			t.Fatalf("with Redis up: %d and %d of %d arrived", atA.distinct(calm), atB.distinct(calm), calm)
		}
		atA.mu.Lock()
		clear(atA.got)
		atA.mu.Unlock()
		atB.mu.Lock()
		clear(atB.got)
		atB.mu.Unlock()

		const sent = 900
		round("restart", sent, func() {
			rs.StopWith(sig)
			time.Sleep(200 * time.Millisecond)
			rs.Start()
		})
		lost := 0
		for _, pair := range [][2]any{{a, atB}, {b, atA}} {
			s, col := pair[0].(*node), pair[1].(*collector)
			st := s.adapter().Stats()
			got := col.distinct(sent)
			t.Logf("%s → other node: %d of %d arrived; counted: %d not published, %d undelivered; %d gaps, deaf %v",
				s.name, got, sent, st.NotPublished, st.Undelivered, st.SubscriberGaps, st.DeafTime)
			if uint64(got)+st.NotPublished+st.Undelivered+uint64(tolerance) < sent {
				t.Errorf("%s: %d of %d arrived, but only %d counted as dropped (%+v)", s.name, got, sent, st.NotPublished+st.Undelivered, st)
			}
			if st.SubscriberGaps == 0 || st.DeafTime <= 0 {
				t.Errorf("%s: subscriber gap not counted: %+v", s.name, st)
			}
			lost += sent - got
		}
		if lost == 0 {
			t.Log("nothing was lost in this run")
		}
		logHas(t, a, "Redis is back; resubscribed")
		logHas(t, a, "deaf=")
	})
}

// Malformed and oversized messages are counted and logged, never a panic;
// an oversized broadcast is not published (counted) but still delivered
// on its own node.
func TestMalformedCounted(t *testing.T) {
	testkit.NeedRedis(t)
	faultModes(t, func(t *testing.T, opts Options) {
		opts.Key = uniqueKey(t)
		opts.MaxMessageSize = 4096
		nodes := startCluster(t, 2, env{Options: opts})
		c0 := dialClient(t, nodes[0].url(), "c0", nil)
		c1 := dialClient(t, nodes[1].url(), "c1", nil)
		rdb := newRedisClient(t, testkit.RedisAddr())
		publish := func(ch, payload string) {
			var err error
			if opts.Sharded {
				err = rdb.SPublish(context.Background(), ch, payload).Err()
			} else {
				err = rdb.Publish(context.Background(), ch, payload).Err()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		big := strings.Repeat("x", 5000)
		var payloads [][2]string // channel, payload
		if opts.Sharded {
			ch := opts.Key + "#/#"
			payloads = [][2]string{{ch, "{"}, {ch, `{"type":99,"uid":"x","nsp":"/"}`}, {ch, "\xc1"}, {ch, `{"type":3,"uid":"x","nsp":"/","data":{"packet":null}}`}, {ch, big}}
		} else {
			ch, req := opts.Key+"#/#", opts.Key+"-request#/#"
			payloads = [][2]string{{ch, "\xc1"}, {ch, "\x93\xa1x\xc0\xc0"}, {req, "{"}, {req, `{"type":99}`}, {ch, big}}
		}
		for _, p := range payloads {
			publish(p[0], p[1])
		}
		for _, n := range nodes {
			testkit.Eventually(t, 5*time.Second, func() error {
				if got := n.adapter().Stats().Malformed; got != uint64(len(payloads)) {
					return fmt.Errorf("%s: %d malformed counted, want %d", n.name, got, len(payloads))
				}
				return nil
			})
			logHas(t, n, "malformed message ignored")
			logHas(t, n, "message too big")
		}
		_ = nodes[1].srv.Emit("still-fine")
		c0.Expect("still-fine")
		c1.Expect("still-fine")

		_ = nodes[1].srv.Emit("huge", big)
		c1.Expect("huge")
		c0.ExpectNone(200 * time.Millisecond)
		if st := nodes[1].adapter().Stats(); st.NotPublished != 1 {
			t.Errorf("oversized broadcast: %+v", st)
		}
	})
}

// hungRedis accepts connections and never answers: a Redis that hangs,
// or a network that drops everything.
func hungRedis(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// Broadcasting while Redis is down (killed, or hung) never waits for it:
// local clients get everything at once, and every message for the other
// nodes is counted as not published within a few seconds, not queued
// behind a dead connection to trickle out (or be dropped) for minutes.
func TestBroadcastWhileRedisDown(t *testing.T) {
	for _, tc := range []string{"killed", "hung"} {
		t.Run(tc, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			opts := faultOpts
			opts.Key = uniqueKey(t)
			var addr string
			var rs *testkit.RedisServer
			if tc == "hung" {
				addr = hungRedis(t)
			} else {
				rs = testkit.NewRedisServer(t)
				rs.Start()
				addr = rs.Addr()
			}
			n := startNode(t, "a", addr, opts)
			if rs != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := n.adapter().WaitSubscribed(ctx); err != nil {
					t.Fatal(err)
				}
				rs.Stop()
			}
			c := dialClient(t, n.url(), "c", nil)
			col := collect(c, "x")
			defer col.close()
			const count = 1000
			var slowest time.Duration
			start := time.Now()
			for i := range count {
				t0 := time.Now()
				_ = n.srv.Emit("x", i)
				slowest = max(slowest, time.Since(t0))
			}
			total := time.Since(start)
			if slowest > time.Second || total > 3*time.Second {
				t.Errorf("%d broadcasts with Redis %s: %v, the slowest %v", count, tc, total, slowest)
			}
			testkit.Eventually(t, 5*time.Second, func() error {
				if got := col.distinct(count); got != count {
					return fmt.Errorf("local client got %d of %d", got, count)
				}
				return nil
			})
			// The first batch waits for its timeout at worst; everything
			// else is dropped at once.
			testkit.Eventually(t, publishTimeout+5*time.Second, func() error {
				if st := n.adapter().Stats(); st.NotPublished != count {
					return fmt.Errorf("not published: %d counted, want %d (%+v)", st.NotPublished, count, st)
				}
				return nil
			})
			logHas(t, n, "messages for other nodes dropped")
			logHas(t, n, fmt.Sprintf("total=%d", count))
		})
	}
}
