// Command goserver is the sockio node of the cluster tests (test/cluster):
// sockio with adapter/redis (or, with -adapter, its sharded mode,
// adapter/redisstreams or adapter/nats), optionally with request
// forwarding (no sticky sessions) and connection-state recovery,
// following CONTRACT.md.
package main

import (
	"context"
	"encoding/json"
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

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
	natsadapter "github.com/sockio/sockio/adapter/nats"
	"github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/adapter/redisstreams"
	"github.com/sockio/sockio/parser"
)

type config struct {
	port       int
	adapter    string
	redisURL   string
	natsURL    string
	key        string
	sharded    bool
	name       string
	timeout    time.Duration
	forwarding bool
	recovery   time.Duration
	drainDelay time.Duration
}

func main() {
	var c config
	var timeout int
	flag.IntVar(&c.port, "port", 0, "listen port on 127.0.0.1 (0: any)")
	flag.StringVar(&c.adapter, "adapter", "redis", "redis, redis-sharded, redis-streams or nats")
	flag.StringVar(&c.redisURL, "redis", "redis://127.0.0.1:6379", "Redis URL")
	flag.StringVar(&c.natsURL, "nats", "nats://127.0.0.1:4222", "NATS URL (-adapter=nats)")
	flag.StringVar(&c.key, "key", "socket.io", "channel prefix (redis), stream name, channel and session key prefix (redis-streams), subject prefix and stream name (nats)")
	flag.BoolVar(&c.sharded, "sharded", false, "sharded Pub/Sub (the same as -adapter=redis-sharded)")
	flag.StringVar(&c.name, "name", "go", "node name")
	flag.IntVar(&timeout, "timeout", 5000, "requests timeout in ms")
	flag.BoolVar(&c.forwarding, "forwarding", false, "forward requests for other nodes' sessions (cluster.Peers on the adapter's broker): no sticky sessions needed")
	flag.DurationVar(&c.recovery, "recovery", 0, "connection-state recovery window (0: off)")
	flag.DurationVar(&c.drainDelay, "drain-delay", 0, "on SIGTERM, how long /readyz says 503 before the clients are handed off")
	purgeOnly := flag.Bool("purge", false, "delete what nodes with -adapter and -key left in the broker (stream, session keys, JetStream stream and bucket), and exit")
	flag.Parse()
	c.timeout = time.Duration(timeout) * time.Millisecond
	if c.sharded {
		c.adapter = "redis-sharded"
	}
	if *purgeOnly {
		if err := purge(c); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// purge deletes what a test's nodes left in the shared brokers: the
// redis-streams stream and session keys, the NATS recovery stream and
// session bucket. Pub/Sub leaves nothing behind.
func purge(c config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch c.adapter {
	case "redis-streams":
		ropts, err := goredis.ParseURL(c.redisURL)
		if err != nil {
			return fmt.Errorf("failed to parse -redis: %w", err)
		}
		rdb := goredis.NewClient(ropts)
		defer rdb.Close()
		keys := []string{c.key}
		iter := rdb.Scan(ctx, 0, c.key+":session:*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("failed to list the session keys: %w", err)
		}
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			return fmt.Errorf("failed to delete the keys: %w", err)
		}
	case "nats":
		nc, err := natsgo.Connect(c.natsURL)
		if err != nil {
			return fmt.Errorf("failed to connect to NATS: %w", err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return fmt.Errorf("failed to open JetStream: %w", err)
		}
		for _, s := range []string{c.key, "KV_" + c.key + "_sessions"} {
			if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("failed to delete stream %s: %w", s, err)
			}
		}
	}
	return nil
}

// built is what -adapter built: the adapter, the broker that carries the
// directory of nodes for -forwarding, and what to close on exit (last
// first).
type built struct {
	adapter sockio.AdapterFactory
	broker  cluster.Broker
	closers []func() error
}

func build(c config, logger *slog.Logger) (*built, error) {
	b := &built{}
	var rdb *goredis.Client
	if c.adapter != "nats" {
		ropts, err := goredis.ParseURL(c.redisURL)
		if err != nil {
			return nil, fmt.Errorf("failed to parse -redis: %w", err)
		}
		rdb = goredis.NewClient(ropts)
		b.closers = append(b.closers, rdb.Close)
	}
	switch c.adapter {
	case "redis", "redis-sharded":
		b.adapter = redis.NewAdapter(rdb, redis.Options{
			Key: c.key, Sharded: c.adapter == "redis-sharded", RequestsTimeout: c.timeout, Logger: logger,
		})
		if c.forwarding {
			// Sharded channels of its own (another namespace than the
			// adapter's), for the directory only.
			b.broker = redis.NewBroker(rdb, redis.Options{Key: c.key, Logger: logger})
		}
	case "redis-streams":
		br := redisstreams.NewBroker(rdb, redisstreams.Options{
			StreamName: c.key, ChannelPrefix: c.key, SessionKeyPrefix: c.key + ":session:", Logger: logger,
		})
		b.closers = append(b.closers, br.Close)
		b.broker = br
		b.adapter = logRestores(cluster.NewAdapter(br, cluster.Options{RequestsTimeout: c.timeout, Logger: logger}), logger)
	case "nats":
		nc, err := natsadapter.Connect(c.natsURL, logger)
		if err != nil {
			return nil, fmt.Errorf("failed to connect to NATS: %w", err)
		}
		b.closers = append(b.closers, func() error { nc.Close(); return nil })
		opts := natsadapter.Options{Prefix: c.key, StreamName: c.key, Logger: logger}
		if c.recovery > 0 {
			// 1.5 times the server's window (docs/scaling.md): a killed
			// node's sessions live in the bucket that long.
			opts.Recovery = natsadapter.Recovery{Window: c.recovery * 3 / 2}
		}
		br := natsadapter.NewBroker(nc, opts)
		if cl, ok := br.(interface{ Close() error }); ok {
			b.closers = append(b.closers, cl.Close)
		}
		b.broker = br
		b.adapter = logRestores(cluster.NewAdapter(br, cluster.Options{RequestsTimeout: c.timeout, Logger: logger}), logger)
	default:
		_ = b.close()
		return nil, fmt.Errorf("unknown -adapter %q", c.adapter)
	}
	return b, nil
}

// restoreLogger is a cluster adapter that logs the recoveries it could
// not make (sockio counts them, without a word): the tests show the
// nodes' warnings when a client comes back without its session.
type restoreLogger struct {
	*cluster.Adapter // all its methods: SessionTracker, WaitSubscribed, ...
	log              *slog.Logger
}

func logRestores(f sockio.AdapterFactory, logger *slog.Logger) sockio.AdapterFactory {
	return func(n *sockio.Namespace) sockio.Adapter {
		return &restoreLogger{Adapter: f(n).(*cluster.Adapter), log: logger}
	}
}

func (r *restoreLogger) TakeSession(ctx context.Context, pid string) (*sockio.Session, error) {
	s, err := r.Adapter.TakeSession(ctx, pid)
	switch {
	case err != nil:
		r.log.Warn("restore failed", "pid", pid, "err", err)
	case s == nil:
		r.log.Warn("restore found no session", "pid", pid)
	}
	return s, err
}

func (r *restoreLogger) ReadMissed(ctx context.Context, rooms []string, offset string) ([]*parser.Packet, string, bool, error) {
	missed, through, ok, err := r.Adapter.ReadMissed(ctx, rooms, offset)
	switch {
	case err != nil:
		r.log.Warn("reading missed events failed", "offset", offset, "err", err)
	case !ok:
		r.log.Warn("offset no longer in the log", "offset", offset)
	}
	return missed, through, ok, err
}

func (b *built) close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	return errors.Join(errs...)
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

func run(c config) error {
	name := c.name
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cl, err := build(c, logger)
	if err != nil {
		return err
	}
	defer func() { _ = cl.close() }()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", c.port))
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	defer ln.Close() // when a later step fails
	opts := sockio.Options{Adapter: cl.adapter}
	if c.recovery > 0 {
		opts.ConnectionStateRecovery = &sockio.RecoveryOptions{MaxDisconnectionDuration: c.recovery}
	}
	var peers *cluster.Peers
	if c.forwarding {
		// The node's name in the session ids changes at each start: a
		// restarted node never claims its former sessions.
		peers, err = cluster.NewPeers(cl.broker, cluster.PeersOptions{
			Node: fmt.Sprintf("%s-%d", name, os.Getpid()),
			URL:  "http://" + ln.Addr().String(), Logger: logger,
		})
		if err != nil {
			return fmt.Errorf("failed to make the directory of nodes: %w", err)
		}
		opts.Forwarding = peers.Forwarding()
	}
	io := sockio.NewServer(opts)
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
		if !s.Recovered() {
			s.SetData(map[string]any{"name": s.Handshake().Auth["name"], "node": name})
		}
		s.On("whoami", func(ack sockio.Ack) {
			ack(map[string]any{"node": name, "id": s.ID(), "recovered": s.Recovered(), "rooms": s.Rooms()})
		})
		s.On("join", func(e *sockio.Event) {
			var room string
			_ = e.Args.Decode(0, &room)
			s.Join(room)
			_ = e.Ack(nil)
		})
		s.On("leave", func(e *sockio.Event) {
			var room string
			_ = e.Args.Decode(0, &room)
			s.Leave(room)
			_ = e.Ack(nil)
		})
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
			a, ok := nsp.Adapter().(interface {
				AllRooms(context.Context) ([]string, error)
			})
			if !ok {
				return "unsupported by -adapter=" + c.adapter
			}
			rooms, err := a.AllRooms(context.Background())
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

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if io.Draining() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /peers", func(w http.ResponseWriter, _ *http.Request) {
		live := []string{}
		if peers != nil {
			live = append(live, peers.Live()...)
		}
		sort.Strings(live)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(live)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if a, ok := nsp.Adapter().(interface{ WaitSubscribed(context.Context) error }); ok {
		if err := a.WaitSubscribed(ctx); err != nil {
			return fmt.Errorf("not subscribed: %w", err)
		}
	}
	if peers != nil {
		if err := peers.Start(ctx); err != nil {
			return err
		}
		// Closed after the HTTP server: forwarded requests go on until then.
		defer func() { _ = peers.Close() }()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Printf("READY %d\n", ln.Addr().(*net.TCPAddr).Port)

	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		return err
	case <-sig.Done():
	}
	// Graceful: not ready and no new sessions, then (after -drain-delay)
	// every client is closed with "server shutting down", to reconnect
	// elsewhere (and recover there), then the HTTP server stops.
	start := time.Now()
	io.Drain()
	if c.drainDelay > 0 {
		time.Sleep(c.drainDelay)
	}
	// The HTTP server's shutdown waits for the requests this node
	// forwards to the others: a long poll lasts up to pingInterval (25s).
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if err := io.Shutdown(sctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("failed to shut the HTTP server down: %w", err)
	}
	logger.Info("shut down", "took", time.Since(start).Round(time.Millisecond))
	return nil
}
