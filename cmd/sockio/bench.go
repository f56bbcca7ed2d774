package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/sockio/sockio/internal/bench"
)

func init() {
	register("bench", "load-test a Socket.IO v4 server: connect, echo, broadcast", runBench)
}

const benchUsage = `usage: sockio bench <scenario> [flags]

scenarios:
  connect    open -n connections at -rate per second; accept rate, failures
             by class, connect latency, server RSS per connection (-pid)
  echo       -c clients in a closed loop of emit-with-ack; acks/s, latency
             (-transport polling for the smaller polling scenario, -raw for a
             plain WebSocket echo server: the protocol-overhead baseline)
  broadcast  -n clients in a room, one sender; delivered/s, fan-out latency,
             loss, and the time for one broadcast to reach all -n

Every scenario is bounded by -timeout and by its own counts, targets only
127.0.0.0/8, and spreads client source addresses over 127.0.0.2-254.`

func runBench(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(os.Stderr, benchUsage)
		return nil
	}
	scenario, args := args[0], args[1:]
	fs := flag.NewFlagSet("bench "+scenario, flag.ContinueOnError)
	var cfg bench.Config
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
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	limit, err := bench.RaiseFileLimit()
	if err != nil {
		return err
	}
	if need := uint64(*n) + 64; (scenario == "connect" || scenario == "broadcast") && need > limit {
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

	var res *bench.Result
	switch scenario {
	case "connect":
		res, err = bench.Connect(ctx, cfg, bench.ConnectParams{N: *n, Rate: *rate, Settle: *settle, GCURL: *gcURL})
	case "echo":
		res, err = bench.Echo(ctx, cfg, bench.EchoParams{Clients: *clients, Warmup: *warm, Duration: *dur,
			Size: *size, Transport: *tr, Raw: *raw, MaxRequests: *maxCount})
	case "broadcast":
		res, err = bench.Broadcast(ctx, cfg, bench.BroadcastParams{N: *n, Room: *room, Singles: *singles, Rate: *rate,
			Window: *window, Warmup: *warm, Duration: *dur, Size: *size, MaxBroadcasts: int(*maxCount)})
	default:
		fmt.Fprintln(os.Stderr, benchUsage)
		return fmt.Errorf("unknown bench scenario %q", scenario)
	}
	if res != nil {
		switch {
		case *brief:
			fmt.Println(res.Brief())
		case !*quiet:
			res.WriteTable(os.Stdout)
		}
		if *out != "" {
			if werr := appendJSON(*out, res); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}
	return err
}

func appendJSON(path string, res *bench.Result) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", path, err)
	}
	if err := res.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
