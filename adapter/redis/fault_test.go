package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/testkit"
)

var faultOpts = Options{RequestsTimeout: 700 * time.Millisecond, HealthCheckInterval: time.Second}

func faultModes(t *testing.T, fn func(t *testing.T, opts Options)) {
	for _, m := range modes[:2] { // classic and sharded
		t.Run(m.name, func(t *testing.T) {
			opts := faultOpts
			opts.Sharded, opts.SubscriptionMode = m.opts.Sharded, m.opts.SubscriptionMode
			fn(t, opts)
		})
	}
}

func logHas(t *testing.T, n *node, text string) {
	t.Helper()
	// Loss lines are rate-limited to one per kind per 5 s (stats.go): a
	// line held back by the limiter comes with the next flush.
	testkit.Eventually(t, 15*time.Second, func() error {
		if !strings.Contains(n.log.String(), text) {
			return fmt.Errorf("%s: log lacks %q:\n%s", n.name, text, n.log)
		}
		return nil
	})
}

// Redis is not there when the nodes start: they serve their own clients,
// requests fail fast with an error, and the cluster forms once Redis is up.
func TestRedisDownAtStart(t *testing.T) {
	faultModes(t, func(t *testing.T, opts Options) {
		testkit.CheckGoroutines(t)
		rs := testkit.NewRedisServer(t)
		opts.Key = uniqueKey(t)
		a := startNode(t, "a", rs.Addr(), opts)
		b := startNode(t, "b", rs.Addr(), opts)
		ca := dialClient(t, a.url(), "ca", func(testkit.Event) []any { return []any{"ca"} })
		cb := dialClient(t, b.url(), "cb", nil)

		_ = a.srv.Emit("local-while-down")
		ca.Expect("local-while-down")
		cb.ExpectNone(200 * time.Millisecond)

		start := time.Now()
		socks, err := a.srv.FetchSockets(context.Background())
		if err == nil || len(socks) != 1 || socks[0].ID != ca.SID {
			t.Errorf("fetchSockets with Redis down: %v, %v", socks, err)
		}
		res, err := a.srv.Timeout(time.Second).EmitWithAck(context.Background(), "ask")
		if !errors.Is(err, sockio.ErrTimeout) || len(res) != 1 {
			t.Errorf("emitWithAck with Redis down: %v, %v", res, err)
		}
		ca.Expect("ask")
		done := make(chan error, 1)
		_ = a.srv.ServerSideEmit("x", func(err error, _ []sockio.Args) { done <- err })
		if err := <-done; err == nil {
			t.Error("serverSideEmit with ack: no error with Redis down")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("requests took %v with Redis down", d)
		}
		logHas(t, a, "cannot reach Redis")

		rs.Start()
		waitCluster(t, []*node{a, b}, 2)
		logHas(t, a, "connected to Redis")
		_ = a.srv.Emit("cluster")
		ca.Expect("cluster")
		cb.Expect("cluster")
	})
}

// Redis restarts while the nodes run: no crash, local delivery goes on,
// the subscribers come back by themselves and delivery resumes.
func TestRedisRestarted(t *testing.T) {
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
		_ = b.srv.Emit("before")
		ca.Expect("before")
		cb.Expect("before")

		rs.Stop()
		logHas(t, a, "connection to Redis lost")
		for i := range 50 { // broadcasts while Redis is away
			_ = b.srv.Emit("during", i)
		}
		for i := range 50 {
			var n int
			cb.Expect("during").Arg(t, 0, &n)
			if n != i {
				t.Fatalf("local delivery: got %d, want %d", n, i)
			}
		}
		ca.ExpectNone(300 * time.Millisecond)
		if _, err := b.srv.FetchSockets(context.Background()); err == nil {
			t.Error("fetchSockets: no error with Redis away")
		}

		rs.Start()
		logHas(t, a, "Redis is back; resubscribed")
		logHas(t, b, "Redis is back; resubscribed")
		waitCluster(t, []*node{a, b}, 2)
		testkit.Eventually(t, 10*time.Second, func() error {
			_ = b.srv.Emit("after")
			cb.Expect("after")
			if _, err := ca.Next(200 * time.Millisecond); err != nil {
				return err
			}
			return nil
		})
		socks, err := a.srv.FetchSockets(context.Background())
		if err != nil || len(socks) != 2 {
			t.Errorf("fetchSockets after restart: %d, %v", len(socks), err)
		}
	})
}

// A node that stops answering while a request waits: the request ends
// with a timeout error and the answers it got.
func TestNodeDiesDuringRequest(t *testing.T) {
	testkit.NeedRedis(t)
	faultModes(t, func(t *testing.T, opts Options) {
		testkit.CheckGoroutines(t)
		opts.Key = uniqueKey(t)
		nodes := startCluster(t, 3, env{Options: opts})
		dialClient(t, nodes[0].url(), "c0", nil)
		dialClient(t, nodes[1].url(), "c1", nil)

		// node2 gets the event but dies before it answers.
		release := make(chan struct{})
		defer close(release)
		nodes[2].mu.Lock()
		nodes[2].hold = release
		nodes[2].mu.Unlock()
		type result struct {
			err error
			res []sockio.Args
		}
		done := make(chan result, 1)
		start := time.Now()
		_ = nodes[0].srv.ServerSideEmit("slow", func(err error, res []sockio.Args) { done <- result{err, res} })
		testkit.Eventually(t, 5*time.Second, func() error {
			if len(nodes[2].serverEvents()) == 0 {
				return errors.New("node2 did not get the event")
			}
			return nil
		})
		closing := time.Now()
		nodes[2].close() // returns though its handler still runs
		if d := time.Since(closing); d > handlerGrace+2*time.Second {
			t.Errorf("close took %v with a handler running", d)
		}
		r := <-done
		if !errors.Is(r.err, sockio.ErrTimeout) {
			t.Errorf("err = %v, want a timeout", r.err)
		}
		if got := ackNames(t, r.res); len(got) != 1 || got[0] != "node1:slow" {
			t.Errorf("answers %v", got)
		}
		if st := nodes[0].adapter().Stats(); st.IncompleteRequests != 1 {
			t.Errorf("incomplete requests: %+v", st)
		}
		logHas(t, nodes[0], "request ended before every node answered")
		logHas(t, nodes[0], "answered=1 expected=2")
		if d := time.Since(start); d < opts.RequestsTimeout || d > handlerGrace+opts.RequestsTimeout+2*time.Second {
			t.Errorf("answered after %v", d)
		}

		// A node whose subscription is there but who never answers (hung,
		// or dead without its connection closed yet).
		ghost := newRedisClient(t, testkit.RedisAddr())
		var ps *redis.PubSub
		if opts.Sharded {
			ps = ghost.SSubscribe(context.Background(), opts.Key+"#/#")
		} else {
			ps = ghost.Subscribe(context.Background(), opts.Key+"-request#/#")
		}
		defer ps.Close()
		if _, err := ps.Receive(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitCluster(t, nodes[:2], 3)
		start = time.Now()
		socks, err := nodes[1].srv.FetchSockets(context.Background())
		if !errors.Is(err, sockio.ErrTimeout) || len(socks) != 2 {
			t.Errorf("fetchSockets: %d sockets, %v", len(socks), err)
		}
		if d := time.Since(start); d > opts.RequestsTimeout+time.Second {
			t.Errorf("fetchSockets took %v", d)
		}
		if !opts.Sharded {
			rooms, err := nodes[1].adapter().AllRooms(context.Background())
			if !errors.Is(err, sockio.ErrTimeout) || len(rooms) != 2 {
				t.Errorf("allRooms: %v, %v", rooms, err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := nodes[1].srv.FetchSockets(ctx); !errors.Is(err, sockio.ErrTimeout) {
			t.Errorf("fetchSockets with a short context: %v", err)
		}
	})
}

// Garbage on every channel of a node: ignored, nothing breaks.
func TestMalformedMessages(t *testing.T) {
	testkit.NeedRedis(t)
	faultModes(t, func(t *testing.T, opts Options) {
		opts.Key = uniqueKey(t)
		nodes := startCluster(t, 2, env{Options: opts})
		c := dialClient(t, nodes[0].url(), "c", nil)
		rdb := newRedisClient(t, testkit.RedisAddr())
		a := nodes[0].adapter()
		channels := []string{opts.Key + "#/#", opts.Key + "#/#room#", opts.Key + "-request#/#", opts.Key + "-response#/#", opts.Key + "#/#" + a.UID() + "#"}
		payloads := []string{
			"", "{", "\xc1", "\x93", "\x93\xa1x\xc0\xc0", "\x93\xa1x\x81\xa4type\x02\x80", `{"type":6,"data":[]}`,
			`{"type":6,"data":[{}]}`, `{"type":7,"packet":{"type":2,"data":[]}}`, `{"type":3,"uid":"x","nsp":"/","data":{"packet":null}}`,
			`{"type":9,"uid":"x","nsp":"/","data":{"packet":[1e999]}}`, `{"type":2,"opts":"x","rooms":5}`, `{"requestId":"x","sockets":[1,{"id":2}]}`,
			`{"type":99}`, "\x82\xa4type\x03\xa4data\x81\xa6packet\x83\xa4type\x02\xa4data\x91\xc4\x01\x00\xa3nsp\xa1/",
		}
		for _, ch := range channels {
			for _, p := range payloads {
				if opts.Sharded {
					rdb.SPublish(context.Background(), ch, p)
				} else {
					rdb.Publish(context.Background(), ch, p)
				}
			}
		}
		_ = nodes[1].srv.Emit("still-fine")
		c.Expect("still-fine")
		c.ExpectNone(100 * time.Millisecond)
	})
}

// Publishing never blocks, and what cannot be published is bounded.
func TestPublishQueueBounded(t *testing.T) {
	testkit.CheckGoroutines(t)
	rs := testkit.NewRedisServer(t) // never started
	opts := faultOpts
	opts.Key, opts.PublishQueue = uniqueKey(t), 16
	n := startNode(t, "a", rs.Addr(), opts)
	start := time.Now()
	for i := range 5000 {
		_ = n.srv.Emit("x", i)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("5000 broadcasts with Redis down took %v", d)
	}
	if l := len(n.adapter().r.pub); l > 16 {
		t.Errorf("queue holds %d", l)
	}
	logHas(t, n, "messages for other nodes dropped")
}
