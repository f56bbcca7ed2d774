// Command sockio-bench load-tests any Socket.IO v4 server that implements
// bench/contract.md: connect, echo, broadcast, and the two-node scenarios
// crossnode and recover. It was `sockio bench`; it lives in the bench module
// so the library module holds only the library.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sockio/sockio/bench/internal/load"
)

const benchUsage = `usage: sockio-bench <scenario> [flags]

scenarios:
  connect    open -n connections at -rate per second; accept rate, failures
             by class, connect latency, server RSS per connection (-pid)
  echo       -c clients in a closed loop of emit-with-ack; acks/s, latency
             (-transport polling for the smaller polling scenario, -raw for a
             plain WebSocket echo server: the protocol-overhead baseline)
  broadcast  -n clients in a room, one sender; delivered/s, fan-out latency,
             loss, and the time for one broadcast to reach all -n
  crossnode  broadcast across two nodes of a cluster: -n clients on -addr,
             the sender on -pub-addr; -rates 100,200,... steps the rate up
             until saturation (one result per step); -cpu-pid a=PID adds
             another process's CPU time (the other node, the broker)
  recover    connection-state recovery across two nodes: a client on -addr
             misses -k events sent from -pub-addr, then comes back there;
             recovered or not, events back, time to get them

Every scenario is bounded by -timeout and by its own counts, targets only
127.0.0.0/8, and spreads client source addresses over 127.0.0.2-254.`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sockio-bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(os.Stderr, benchUsage)
		return nil
	}
	scenario, args := args[0], args[1:]
	fs := flag.NewFlagSet("sockio-bench "+scenario, flag.ContinueOnError)
	var cfg load.Config
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:3000", "server address (127.0.0.0/8 only)")
	fs.StringVar(&cfg.Path, "path", "/socket.io/", "Socket.IO path (the raw echo uses it as its URL path)")
	fs.StringVar(&cfg.Target, "label", "server", "name of the server in the results")
	fs.IntVar(&cfg.PID, "pid", 0, "server process id: RSS and CPU time from /proc")
	fs.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "hard bound of the whole run")
	fs.DurationVar(&cfg.DialTimeout, "dial-timeout", 10*time.Second, "bound of one connection's setup")
	fs.IntVar(&cfg.Concurrency, "concurrency", 128, "connection setups in flight")
	out := fs.String("out", "", "append the result as one JSON line to this file")
	quiet := fs.Bool("quiet", false, "no live progress and no table")
	brief := fs.Bool("brief", false, "one summary line instead of the table (for scripts)")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile here")
	fs.Func("cpu-pid", "crossnode: `label=pid` of another process to report the CPU time of (repeatable)", func(v string) error {
		label, pid, ok := strings.Cut(v, "=")
		n, err := strconv.Atoi(pid)
		if !ok || label == "" || err != nil || n <= 0 {
			return fmt.Errorf("want label=pid, got %q", v)
		}
		cfg.OtherPIDs = append(cfg.OtherPIDs, load.NamedPID{Label: label, PID: n})
		return nil
	})

	var (
		n        = fs.Int("n", 1000, "connect, broadcast: connections")
		rate     = fs.Float64("rate", 0, "connect: connections/s; broadcast: broadcasts/s (0 = as fast as allowed)")
		settle   = fs.Duration("settle", 2*time.Second, "connect: wait before reading the server's RSS")
		gcURL    = fs.String("gc-url", "", "connect: URL that makes the server collect garbage, for an RSS reading after GC")
		clients  = fs.Int("c", 100, "echo: clients")
		dur      = fs.Duration("duration", 5*time.Second, "echo, broadcast: measured time")
		warm     = fs.Duration("warmup", time.Second, "echo, broadcast: unmeasured warm-up")
		size     = fs.Int("size", 64, "echo, broadcast: payload bytes")
		tr       = fs.String("transport", "websocket", "echo: websocket or polling")
		raw      = fs.Bool("raw", false, "echo: plain WebSocket echo server (no Socket.IO)")
		room     = fs.String("room", "bench", "broadcast: room to join (empty: broadcast to everyone)")
		singles  = fs.Int("singles", 20, "broadcast: lone broadcasts timed to the last client")
		window   = fs.Int("window", 4, "broadcast: broadcasts in flight at most")
		maxCount = fs.Int64("max", 0, "echo: requests, broadcast: broadcasts at most (0 = built-in bound)")
		pubAddr  = fs.String("pub-addr", "", "crossnode, recover: the other node's address (the sender's)")
		rates    = fs.String("rates", "", "crossnode: comma-separated broadcasts/s, a ladder stopped at saturation (instead of -rate)")
		stopP99  = fs.Duration("stop-p99", time.Second, "crossnode: a ladder step whose fan-out p99 passes this is the last")
		ks       = fs.String("k", "100,1000", "recover: comma-separated numbers of missed events")
		settle2  = fs.Duration("drop-settle", 300*time.Millisecond, "recover: wait after the client drops, before the events are sent")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	limit, err := load.RaiseFileLimit()
	if err != nil {
		return err
	}
	if need := uint64(*n) + 64; (scenario == "connect" || scenario == "broadcast" || scenario == "crossnode") && need > limit {
		return fmt.Errorf("%d connections need %d open files, the limit is %d: split the run over several processes", *n, need, limit)
	}
	if !*quiet && !*brief && isTerminal(os.Stderr) {
		cfg.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		// To check that the load generator is not the bottleneck.
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("failed to create the CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("failed to start the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	var res *load.Result
	var more []*load.Result // scenarios with several results: all but the last
	switch scenario {
	case "connect":
		res, err = load.Connect(ctx, cfg, load.ConnectParams{N: *n, Rate: *rate, Settle: *settle, GCURL: *gcURL})
	case "echo":
		res, err = load.Echo(ctx, cfg, load.EchoParams{Clients: *clients, Warmup: *warm, Duration: *dur,
			Size: *size, Transport: *tr, Raw: *raw, MaxRequests: *maxCount})
	case "broadcast":
		res, err = load.Broadcast(ctx, cfg, load.BroadcastParams{N: *n, Room: *room, Singles: *singles, Rate: *rate,
			Window: *window, Warmup: *warm, Duration: *dur, Size: *size, MaxBroadcasts: int(*maxCount)})
	case "crossnode":
		if *pubAddr == "" {
			return fmt.Errorf("crossnode needs -pub-addr, the other node")
		}
		var rs []float64
		if rs, err = parseList(*rates, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }); err != nil {
			return fmt.Errorf("bad -rates: %w", err)
		}
		var all []*load.Result
		all, err = load.BroadcastSteps(ctx, cfg, load.BroadcastParams{N: *n, Room: *room, PubAddr: *pubAddr, Singles: *singles,
			Rate: *rate, Rates: rs, StopP99: *stopP99, Window: *window, Warmup: *warm, Duration: *dur, Size: *size,
			MaxBroadcasts: int(*maxCount)})
		res, more = splitLast(all)
	case "recover":
		if *pubAddr == "" {
			return fmt.Errorf("recover needs -pub-addr, the other node")
		}
		var k []int
		if k, err = parseList(*ks, strconv.Atoi); err != nil {
			return fmt.Errorf("bad -k: %w", err)
		}
		var all []*load.Result
		all, err = load.Recover(ctx, cfg, load.RecoverParams{PubAddr: *pubAddr, Ks: k, Size: *size, Settle: *settle2})
		res, more = splitLast(all)
	default:
		fmt.Fprintln(os.Stderr, benchUsage)
		return fmt.Errorf("unknown bench scenario %q", scenario)
	}
	for _, r := range more {
		if werr := report(r, *brief, *quiet, *out); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if res != nil {
		if werr := report(res, *brief, *quiet, *out); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	return err
}

// parseList parses a comma-separated list; empty gives none.
func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := parse(f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
