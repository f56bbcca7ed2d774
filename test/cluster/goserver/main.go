// Command goserver is the sockio node of the mixed-cluster tests
// (test/cluster): sockio with adapter/redis, following CONTRACT.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redis"
)

func main() {
	port := flag.Int("port", 0, "listen port on 127.0.0.1 (0: any)")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379", "Redis URL")
	key := flag.String("key", "socket.io", "channel prefix")
	sharded := flag.Bool("sharded", false, "sharded Pub/Sub")
	name := flag.String("name", "go", "node name")
	timeout := flag.Int("timeout", 5000, "requests timeout in ms")
	flag.Parse()
	if err := run(*port, *redisURL, *key, *sharded, *name, time.Duration(*timeout)*time.Millisecond); err != nil {
		log.Fatal(err)
	}
}

type options struct {
	Rooms   []string `json:"rooms"`
	Except  []string `json:"except"`
	Event   string   `json:"event"`
	Args    []any    `json:"args"`
	Binary  bool     `json:"binary"`
	Timeout int      `json:"timeout"`
	Target  []string `json:"target"`
	Close   bool     `json:"close"`
	WithAck bool     `json:"withAck"`
}

func run(port int, redisURL, key string, sharded bool, name string, timeout time.Duration) error {
	ropts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	rdb := goredis.NewClient(ropts)
	defer rdb.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	io := sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(rdb, redis.Options{
		Key: key, Sharded: sharded, RequestsTimeout: timeout, Logger: logger,
	})})
	nsp := io.Of("/")

	var mu sync.Mutex
	serverEvents := [][]any{}
	nsp.OnServerSideEmit(func(e *sockio.Event) {
		vals, _ := e.Args.Values()
		mu.Lock()
		serverEvents = append(serverEvents, append([]any{e.Name}, vals...))
		mu.Unlock()
		_ = e.Ack(name + ":" + e.Name)
	})

	// Operations run on their own goroutine: a handler that waits (here
	// for acknowledgements) would hold up its socket's later packets,
	// its own acknowledgement of a broadcast included.
	op := func(s *sockio.Socket, event string, fn func(o options) any) {
		s.On(event, func(e *sockio.Event) {
			var o options
			_ = e.Args.Decode(0, &o)
			go func() { _ = e.Ack(fn(o)) }()
		})
	}
	target := func(o options) *sockio.BroadcastOperator { return nsp.To(o.Rooms...).Except(o.Except...) }
	errText := func(err error) any {
		if err == nil {
			return nil
		}
		return err.Error()
	}

	io.OnConnection(func(s *sockio.Socket) {
		s.SetData(map[string]any{"name": s.Handshake().Auth["name"], "node": name})
		s.On("whoami", func(ack sockio.Ack) { ack(map[string]any{"node": name, "id": s.ID()}) })
		s.On("join", func(room string) { s.Join(room) })
		s.On("leave", func(room string) { s.Leave(room) })
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
		op(s, "broadcast", func(o options) any {
			args := o.Args
			if o.Binary {
				args = append(args, []byte{1, 2, 3})
			}
			_ = target(o).Emit(o.Event, args...)
			return nil
		})
		op(s, "broadcastWithAck", func(o options) any {
			res, err := target(o).Timeout(time.Duration(o.Timeout)*time.Millisecond).EmitWithAck(context.Background(), o.Event)
			out := []any{}
			for _, r := range res {
				v, _ := r.Values()
				if len(v) > 0 {
					out = append(out, v[0])
				}
			}
			sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
			return map[string]any{"err": errText(err), "responses": out}
		})
		op(s, "fetchSockets", func(o options) any {
			socks, err := target(o).FetchSockets(context.Background())
			if err != nil {
				return map[string]any{"err": err.Error()}
			}
			out := []map[string]any{}
			for _, rs := range socks {
				rooms := slices.Clone(rs.Rooms)
				sort.Strings(rooms)
				var n any
				if rs.Handshake != nil {
					n = rs.Handshake.Auth["name"]
				}
				out = append(out, map[string]any{"id": rs.ID, "rooms": rooms, "data": rs.Data, "name": n, "query": rs.Handshake.Query.Get("name")})
			}
			sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["name"]) < fmt.Sprint(out[j]["name"]) })
			return out
		})
		op(s, "socketsJoin", func(o options) any { target(o).SocketsJoin(o.Target...); return nil })
		op(s, "socketsLeave", func(o options) any { target(o).SocketsLeave(o.Target...); return nil })
		op(s, "disconnectSockets", func(o options) any { target(o).DisconnectSockets(o.Close); return nil })
		op(s, "serverSideEmit", func(o options) any {
			if !o.WithAck {
				_ = nsp.ServerSideEmit(o.Event, o.Args...)
				return nil
			}
			type result struct {
				err error
				res []sockio.Args
			}
			done := make(chan result, 1)
			_ = nsp.ServerSideEmit(o.Event, append(o.Args, func(err error, res []sockio.Args) { done <- result{err, res} })...)
			r := <-done
			out := []any{}
			for _, a := range r.res {
				v, _ := a.Values()
				if len(v) > 0 {
					out = append(out, v[0])
				}
			}
			sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
			return map[string]any{"err": errText(r.err), "responses": out}
		})
		op(s, "serverCount", func(options) any {
			n, err := nsp.ServerCount(context.Background())
			if err != nil {
				return err.Error()
			}
			return n
		})
		op(s, "allRooms", func(options) any {
			rooms, err := nsp.Adapter().(*redis.Adapter).AllRooms(context.Background())
			if err != nil {
				return err.Error()
			}
			return rooms
		})
		s.On("serverEvents", func(ack sockio.Ack) {
			mu.Lock()
			defer mu.Unlock()
			ack(serverEvents)
		})
	})

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := nsp.Adapter().(*redis.Adapter).WaitSubscribed(ctx); err != nil {
		return fmt.Errorf("not subscribed: %w", err)
	}
	fmt.Printf("READY %d\n", ln.Addr().(*net.TCPAddr).Port)

	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		return err
	case <-sig.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = io.Close(sctx)
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
