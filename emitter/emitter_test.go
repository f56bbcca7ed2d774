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

	"github.com/gorilla/websocket"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/emitter"
)

// The tests drive real sockio nodes (adapter/redis) on the Redis at
// 127.0.0.1:6379, each test with its own key prefix.
const redisAddr = "127.0.0.1:6379"

func newClient(t *testing.T) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: redisAddr, DialTimeout: time.Second, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Skipf("no Redis at %s (%v)", redisAddr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
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
	n.srv = sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(newClient(t), redis.Options{Key: key, Sharded: sharded})})
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
	n.hs = httptest.NewServer(n.srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.srv.Close(ctx)
		n.hs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, nsp := range []string{"/", "/admin"} {
		if err := n.srv.Of(nsp).Adapter().(*redis.Adapter).WaitSubscribed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// client is a raw Socket.IO client over websocket: it keeps the frames the
// server sends, answering pings.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	wmu    sync.Mutex
	frames chan string
}

func connect(t *testing.T, n *node, nsp string) *client {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.hs.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, ws: ws, frames: make(chan string, 64)}
	t.Cleanup(func() { _ = ws.Close() })
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	go func() {
		defer close(c.frames)
		for {
			typ, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if typ == websocket.TextMessage && string(data) == "2" {
				c.send("3")
				continue
			}
			if typ == websocket.BinaryMessage {
				data = append([]byte("<bin>"), data...)
			}
			c.frames <- string(data)
		}
	}()
	if open := c.next(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open: %q", open)
	}
	c.send(prefix)
	if ok := c.next(); !strings.HasPrefix(ok, prefix+"{") {
		t.Fatalf("connect: %q", ok)
	}
	return c
}

func (c *client) send(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteMessage(websocket.TextMessage, []byte(s))
}

func (c *client) next() string {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatal("connection closed")
		}
		return f
	case <-time.After(5 * time.Second):
		c.t.Fatal("no frame within 5s")
	}
	return ""
}

func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.next(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

func (c *client) expectNone() {
	c.t.Helper()
	select {
	case f := <-c.frames:
		c.t.Fatalf("unexpected %q", f)
	case <-time.After(150 * time.Millisecond):
	}
}

func TestEmitter(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			rdb := newClient(t)
			key := fmt.Sprintf("sockio-test-emitter-%d", time.Now().UnixNano())
			a, b := startNode(t, key, sharded), startNode(t, key, sharded)
			ca, cb := connect(t, a, "/"), connect(t, b, "/")
			admin := connect(t, b, "/admin")
			ca.send(`420["join","r"]`)
			ca.expect(`430[]`)

			e := emitter.New(rdb, emitter.Options{Key: key, Sharded: sharded})
			ctx := context.Background()
			// The room's channel (dynamic sharded mode) may need a moment.
			deadline := time.Now().Add(5 * time.Second)
			for {
				if err := e.To("r").Emit(ctx, "probe"); err != nil {
					t.Fatal(err)
				}
				select {
				case f := <-ca.frames:
					if f != `42["probe"]` {
						t.Fatalf("got %q", f)
					}
				case <-time.After(100 * time.Millisecond):
					if time.Now().Before(deadline) {
						continue
					}
					t.Fatal("room r never reached")
				}
				break
			}

			if err := e.Emit(ctx, "hello", "x", 1.5, map[string]any{"k": []any{true, nil}}); err != nil {
				t.Fatal(err)
			}
			for _, c := range []*client{ca, cb} {
				c.expect(`42["hello","x",1.5,{"k":[true,null]}]`)
			}
			admin.expectNone()

			_ = e.To("r").Emit(ctx, "room", []byte{1, 2})
			ca.expect(`451-["room",{"_placeholder":true,"num":0}]`)
			ca.expect("<bin>\x01\x02")
			cb.expectNone()

			_ = e.Except("r").Emit(ctx, "except")
			cb.expect(`42["except"]`)
			ca.expectNone()

			_ = e.Of("admin").Volatile().Compress(false).Emit(ctx, "admin-news")
			admin.expect(`42/admin,["admin-news"]`)
			ca.expectNone()

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
				waitFor(t, func() bool {
					ev := n.serverEvents()
					slices.Sort(ev)
					return len(ev) == 2 && ev[0] == `/ sse 7 "y"` && ev[1] == `/admin sse-admin `
				}, func() string { return fmt.Sprint(n.serverEvents()) })
			}

			_ = e.In("r").DisconnectSockets(ctx, false)
			ca.expect(`41`)
			cb.expectNone()

			if err := e.Emit(ctx, "disconnect"); !errors.Is(err, emitter.ErrReservedEvent) {
				t.Errorf("reserved event: %v", err)
			}
		})
	}
}

func waitRoom(t *testing.T, n *node, room string, want int) {
	t.Helper()
	waitFor(t, func() bool {
		s, err := n.srv.In(room).FetchSockets(context.Background())
		return err == nil && len(s) == want
	}, func() string { return "room " + room })
}

func waitFor(t *testing.T, ok func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what())
		}
		time.Sleep(20 * time.Millisecond)
	}
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
			rdb := newClient(t)
			key := fmt.Sprintf("sockio-test-emitter-unreceived-%d", time.Now().UnixNano())
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
			c.expect(`42["somebody"]`)
			if err := e.To("empty-room").Emit(ctx, "room"); err != nil {
				t.Fatal(err)
			}
			want := emitter.Stats{Published: 4, Unreceived: 2}
			if !sharded {
				// Classic: every node gets every room's broadcasts.
				c.expectNone()
			}
			if st := e.Stats(); st != want {
				t.Errorf("with a node: %+v, want %+v", st, want)
			}
		})
	}
}
