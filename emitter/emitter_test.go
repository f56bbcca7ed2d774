package emitter_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/emitter"
	"github.com/sockio/sockio/sockiotest"
)

// The tests drive real sockio nodes (adapter/redis) on the Redis of
// sockiotest.Redis (SOCKIO_TEST_REDIS), each test with its own key prefix.
func newClient(t *testing.T) (*goredis.Client, string) {
	t.Helper()
	r := sockiotest.Redis(t)
	return r.NewClient(), r.Prefix
}

type node struct {
	srv    *sockio.Server
	hs     *httptest.Server
	mu     sync.Mutex
	events []string
}

func (n *node) serverEvents() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.events...)
}

func startNode(t *testing.T, key string, sharded bool) *node {
	t.Helper()
	n := &node{}
	rdb, _ := newClient(t)
	n.srv, n.hs = sockiotest.NewServer(t, sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(rdb, redis.Options{Key: key, Sharded: sharded})}))
	n.srv.OnConnection(func(s *sockio.Socket) {
		s.On("join", func(room string, ack sockio.Ack) { s.Join(room); ack() })
	})
	for _, nsp := range []string{"/", "/admin"} {
		n.srv.Of(nsp).OnServerSideEmit(func(e *sockio.Event) {
			var parts []string
			for i := range e.Args.Len() {
				parts = append(parts, string(e.Args.Raw(i)))
			}
			n.mu.Lock()
			n.events = append(n.events, nsp+" "+e.Name+" "+strings.Join(parts, " "))
			n.mu.Unlock()
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, nsp := range []string{"/", "/admin"} {
		if err := n.srv.Of(nsp).Adapter().(*redis.Adapter).WaitSubscribed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// connect joins namespace nsp of n on a raw connection, whose packets the
// tests check as written.
func connect(t *testing.T, n *node, nsp string) *sockiotest.Conn {
	t.Helper()
	c := sockiotest.DialWith(t, n.hs.URL, sockiotest.ConnOptions{Timeout: 5 * time.Second})
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	if ok := c.Connect(nsp, nil); !strings.HasPrefix(ok, prefix+"{") {
		t.Fatalf("connect: %q", ok)
	}
	return c
}

// quiet is how long a client must get nothing.
const quiet = 150 * time.Millisecond

func TestEmitter(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			rdb, key := newClient(t)
			a, b := startNode(t, key, sharded), startNode(t, key, sharded)
			ca, cb := connect(t, a, "/"), connect(t, b, "/")
			admin := connect(t, b, "/admin")
			ca.Send(`420["join","r"]`)
			ca.Expect(`430[]`)

			e := emitter.New(rdb, emitter.Options{Key: key, Sharded: sharded})
			ctx := context.Background()
			// The room's channel (dynamic sharded mode) may need a moment.
			deadline := time.Now().Add(5 * time.Second)
			for {
				if err := e.To("r").Emit(ctx, "probe"); err != nil {
					t.Fatal(err)
				}
				f, err := ca.Next(100 * time.Millisecond)
				if err != nil {
					if time.Now().Before(deadline) {
						continue
					}
					t.Fatal("room r never reached")
				}
				if f.String() != `42["probe"]` {
					t.Fatalf("got %s", f)
				}
				break
			}

			if err := e.Emit(ctx, "hello", "x", 1.5, map[string]any{"k": []any{true, nil}}); err != nil {
				t.Fatal(err)
			}
			for _, c := range []*sockiotest.Conn{ca, cb} {
				c.Expect(`42["hello","x",1.5,{"k":[true,null]}]`)
			}
			admin.ExpectNone(quiet)

			_ = e.To("r").Emit(ctx, "room", []byte{1, 2})
			ca.Expect(`451-["room",{"_placeholder":true,"num":0}]`)
			ca.ExpectBinary([]byte{1, 2})
			cb.ExpectNone(quiet)

			_ = e.Except("r").Emit(ctx, "except")
			cb.Expect(`42["except"]`)
			ca.ExpectNone(quiet)

			_ = e.Of("admin").Volatile().Compress(false).Emit(ctx, "admin-news")
			admin.Expect(`42/admin,["admin-news"]`)
			ca.ExpectNone(quiet)

			_ = e.SocketsJoin(ctx, "all")
			waitRoom(t, a, "all", 2)
			_ = e.In("r").SocketsLeave(ctx, "all")
			waitRoom(t, b, "all", 1)

			_ = e.ServerSideEmit(ctx, "sse", 7, "y")
			_ = e.Of("/admin").ServerSideEmit(ctx, "sse-admin")
			for _, n := range []*node{a, b} {
				// Each namespace's handlers run on its own adapter's
				// goroutine: the order holds within a namespace, not
				// across the two.
				sockiotest.WaitFor(t, 5*time.Second, func() error {
					ev := n.serverEvents()
					slices.Sort(ev)
					if len(ev) == 2 && ev[0] == `/ sse 7 "y"` && ev[1] == `/admin sse-admin ` {
						return nil
					}
					return fmt.Errorf("server-side events %q", ev)
				})
			}

			_ = e.In("r").DisconnectSockets(ctx, false)
			ca.Expect(`41`)
			cb.ExpectNone(quiet)

			if err := e.Emit(ctx, "disconnect"); !errors.Is(err, emitter.ErrReservedEvent) {
				t.Errorf("reserved event: %v", err)
			}
		})
	}
}

func waitRoom(t *testing.T, n *node, room string, want int) {
	t.Helper()
	sockiotest.WaitFor(t, 5*time.Second, func() error {
		s, err := n.srv.In(room).FetchSockets(context.Background())
		if err != nil || len(s) != want {
			return fmt.Errorf("room %s: %d sockets, %v; want %d", room, len(s), err, want)
		}
		return nil
	})
}

func TestEmitterRedisDown(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := emitter.New(rdb, emitter.Options{}).Emit(ctx, "x")
	if err == nil || !strings.Contains(err.Error(), "emitter: publish to socket.io#/#") {
		t.Errorf("err = %v", err)
	}
}

// logSink collects log lines.
type logSink struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// A message no node receives (PUBLISH answered 0) is counted and logged,
// not silently lost; one that a node receives is not, nor a broadcast to
// a room nobody is in (sharded dynamic mode: a channel per room).
func TestEmitterCountsUnreceived(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			rdb, key := newClient(t)
			logs := &logSink{}
			e := emitter.New(rdb, emitter.Options{Key: key, Sharded: sharded, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			ctx := context.Background()
			if err := e.Emit(ctx, "nobody"); err != nil {
				t.Fatal(err)
			}
			if err := e.Of("/admin").ServerSideEmit(ctx, "nobody"); err != nil {
				t.Fatal(err)
			}
			if st := e.Stats(); st.Published != 2 || st.Unreceived != 2 {
				t.Errorf("no node: %+v", st)
			}
			if !strings.Contains(logs.String(), "emitter: messages reached no node") || !strings.Contains(logs.String(), "channel="+key) {
				t.Errorf("log: %q", logs.String())
			}

			n := startNode(t, key, sharded)
			c := connect(t, n, "/")
			if err := e.Emit(ctx, "somebody"); err != nil {
				t.Fatal(err)
			}
			c.Expect(`42["somebody"]`)
			if err := e.To("empty-room").Emit(ctx, "room"); err != nil {
				t.Fatal(err)
			}
			want := emitter.Stats{Published: 4, Unreceived: 2}
			if !sharded {
				// Classic: every node gets every room's broadcasts.
				c.ExpectNone(quiet)
			}
			if st := e.Stats(); st != want {
				t.Errorf("with a node: %+v, want %+v", st, want)
			}
		})
	}
}
