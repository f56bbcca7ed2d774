// Command gostreams is the sockio node of the Redis Streams mixed-cluster
// test (streams.test.mjs): sockio with adapter/redisstreams and
// connection-state recovery, answering the events of streams-server.mjs
// (a subset of CONTRACT.md, plus "drop").
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redisstreams"
)

type options struct {
	Rooms   []string `json:"rooms"`
	Event   string   `json:"event"`
	Args    []any    `json:"args"`
	Binary  bool     `json:"binary"`
	Timeout int      `json:"timeout"`
	WithAck bool     `json:"withAck"`
}

func main() {
	port := flag.Int("port", 0, "listen port on 127.0.0.1 (0: any)")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379", "Redis URL")
	key := flag.String("key", "socket.io", "stream name, channel prefix and session key prefix")
	name := flag.String("name", "go", "node name")
	flag.Parse()
	if err := run(*port, *redisURL, *key, *name); err != nil {
		log.Fatal(err)
	}
}

func sortedFirsts(res []sockio.Args) []any {
	out := []any{}
	for _, r := range res {
		if v, _ := r.Values(); len(v) > 0 {
			out = append(out, v[0])
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func errText(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

func run(port int, redisURL, key, name string) error {
	ropts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	rdb := goredis.NewClient(ropts)
	defer rdb.Close()
	io := sockio.NewServer(sockio.Options{
		Adapter: redisstreams.NewAdapter(rdb, redisstreams.Options{
			StreamName: key, ChannelPrefix: key, SessionKeyPrefix: key + ":session:",
			Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		}),
		ConnectionStateRecovery: &sockio.RecoveryOptions{MaxDisconnectionDuration: 30 * time.Second},
	})
	nsp := io.Of("/")
	nsp.OnServerSideEmit(func(e *sockio.Event) { _ = e.Ack(name + ":" + e.Name) })
	op := func(s *sockio.Socket, event string, fn func(o options) any) {
		s.On(event, func(e *sockio.Event) {
			var o options
			_ = e.Args.Decode(0, &o)
			go func() { _ = e.Ack(fn(o)) }()
		})
	}
	io.OnConnection(func(s *sockio.Socket) {
		if !s.Recovered() {
			s.SetData(map[string]any{"name": s.Handshake().Auth["name"], "node": name})
		}
		s.On("whoami", func(ack sockio.Ack) {
			ack(map[string]any{"node": name, "id": s.ID(), "recovered": s.Recovered()})
		})
		s.On("join", func(room string, ack sockio.Ack) { s.Join(room); ack(nil) })
		s.On("drop", func() { s.Client().Conn().Close() })
		op(s, "broadcast", func(o options) any {
			args := o.Args
			if o.Binary {
				args = append(args, []byte{1, 2, 3})
			}
			_ = nsp.To(o.Rooms...).Emit(o.Event, args...)
			return nil
		})
		op(s, "broadcastWithAck", func(o options) any {
			res, err := nsp.To(o.Rooms...).Timeout(time.Duration(o.Timeout)*time.Millisecond).EmitWithAck(context.Background(), o.Event)
			return map[string]any{"err": errText(err), "responses": sortedFirsts(res)}
		})
		op(s, "fetchSockets", func(o options) any {
			socks, err := nsp.To(o.Rooms...).FetchSockets(context.Background())
			if err != nil {
				return map[string]any{"err": err.Error()}
			}
			out := []any{}
			for _, rs := range socks {
				out = append(out, rs.ID)
			}
			sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
			return out
		})
		op(s, "serverSideEmit", func(o options) any {
			done := make(chan map[string]any, 1)
			_ = nsp.ServerSideEmit(o.Event, append(o.Args, func(err error, res []sockio.Args) {
				done <- map[string]any{"err": errText(err), "responses": sortedFirsts(res)}
			})...)
			return <-done
		})
		op(s, "serverCount", func(options) any {
			n, err := nsp.ServerCount(context.Background())
			if err != nil {
				return err.Error()
			}
			return n
		})
	})

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: io, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	// Ready once this node counts itself: its channels are subscribed.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if n, err := nsp.ServerCount(context.Background()); err == nil && n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not subscribed in 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("READY %d\n", ln.Addr().(*net.TCPAddr).Port)

	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-sig.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = io.Close(ctx)
	return hs.Shutdown(ctx)
}
