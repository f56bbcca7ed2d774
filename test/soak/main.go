// Command soak runs a bounded attack mix against `sockio serve` and checks
// that the server comes out of it whole: slowloris heads, idle keep-alive
// connections, trickled polling bodies, oversized heads and queries,
// polling session churn and slow consumers, beside a normal chat load.
//
// It builds cmd/sockio, runs `sockio serve` as a child with its file limit
// lowered (-nofile), and every second samples the server's open files
// (/proc/<pid>/fd), RSS (/proc/<pid>/status) and goroutines (expvar on the
// server's --debug-addr), while a new websocket client and a new polling
// client are probed. It prints a table every 5 s and a summary, and exits
// non-zero when a probe failed or was not served within -hard-limit, when
// more than -slow-share percent of a phase's probes took over -limit, an attack was not
// contained (each attack says what the server must do, and by when), or
// files, goroutines and memory did not come back near their starting
// values once the attacks stopped.
//
//	go run ./test/soak -duration 5m      # make soak
//	go run ./test/soak -duration 60s     # make soak-short
//
// Linux only (it reads /proc).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// env is what attacks need to know about the run.
type env struct {
	addr  string // host:port of the server
	base  string // http://host:port
	start time.Time
}

func (e *env) since() time.Duration { return time.Since(e.start) }

type config struct {
	duration, settle, limit, every, probeEvery, baseline time.Duration
	hardLimit                                            time.Duration
	slowShare                                            int
	recovery                                             time.Duration
	scale                                                float64
	nofile                                               int
	bin, only                                            string
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 3*time.Minute, "how long the attacks run (after a short baseline)")
	flag.DurationVar(&cfg.settle, "settle", 0, "longest wait, after the attacks, for the server to come back near its start (default: the least wait + 60s)")
	flag.DurationVar(&cfg.recovery, "recovery", 2*time.Minute, "the server's --recovery window (sockio serve's default: 2m); state kept for recovery is released only after it")
	flag.DurationVar(&cfg.limit, "limit", 100*time.Millisecond, "a probe should be served within this (see -slow-share)")
	flag.DurationVar(&cfg.hardLimit, "hard-limit", time.Second, "every probe must be served within this")
	flag.IntVar(&cfg.slowShare, "slow-share", 2, "percent of a phase's probes that may take longer than -limit")
	flag.DurationVar(&cfg.every, "every", 5*time.Second, "table row interval")
	flag.DurationVar(&cfg.probeEvery, "probe", time.Second, "probe interval")
	flag.DurationVar(&cfg.baseline, "baseline", 5*time.Second, "probes alone before the attacks")
	flag.Float64Var(&cfg.scale, "scale", 1, "multiplies every attack's worker count")
	flag.IntVar(&cfg.nofile, "nofile", 4096, "the server's file limit (RLIMIT_NOFILE), set with prlimit")
	flag.StringVar(&cfg.bin, "bin", "", "a sockio binary to run instead of building cmd/sockio")
	flag.StringVar(&cfg.only, "attacks", "", "comma-separated attack names to run (default all), to study one alone")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// Margins for "back near the start", measured after a forced GC once the
// attacks have stopped. Why each:
const (
	// fdMargin: descriptors the server may keep for its life once
	// created under load (the shared netpoll pollers' epoll sets, one per
	// core). Everything per connection or per session must be gone.
	fdMargin = 8
	// goroutineMargin: goroutines that may stay once started (poller and
	// runtime workers, net/http's idle connection of the debug client).
	goroutineMargin = 10
	// recoveryBytes: what connection-state recovery (on by default in
	// sockio serve) keeps of the packets sent in the last window, bounded
	// by RecoveryOptions.MaxBytes (16 MiB). The probes keep it full even
	// after the attacks: each new chat member's welcome carries the
	// room's history (100 messages of up to 900 characters here).
	recoveryBytes = 16 << 20
	// heapMargin: live heap after a GC may keep the chat's history (the
	// last 100 messages of a room, ~100 KB here), runtime caches and the
	// recovery store, not per-connection or per-session state (a few KB
	// each: hundreds of leaked sessions would show).
	heapMargin = 12<<20 + recoveryBytes
	// rssMargin: the Go runtime returns freed pages to the OS gradually
	// (the background scavenger), so RSS lags the heap by what the peak
	// left behind (~5 MB measured after 50 s); the leaks the attacks can
	// cause (1.5 MB per oversized session) are far above.
	rssMargin = 32<<20 + recoveryBytes
	// sessionExpiry: the default pingInterval + pingTimeout (45 s) after
	// which an abandoned session is closed, plus 5 s.
	sessionExpiry = 50 * time.Second
)

// settleMin is the least wait after the attacks: an abandoned session is
// closed after the heartbeat's 45 s, and what connection-state recovery
// keeps of it (the session, the packets sent to it) is released one
// recovery window later. Before that the memory is rightly held.
func settleMin(cfg config) time.Duration { return sessionExpiry + cfg.recovery }

func run(ctx context.Context, cfg config) (bool, error) {
	dir, err := os.MkdirTemp("", "sockio-soak-")
	if err != nil {
		return false, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := cfg.bin
	if bin == "" {
		fmt.Println("building cmd/sockio …")
		if bin, err = buildServer(ctx, dir); err != nil {
			return false, err
		}
	}
	srv, err := startServer(ctx, bin, dir, cfg.nofile, cfg.recovery)
	if err != nil {
		return false, err
	}
	defer srv.stop()
	e := &env{addr: srv.addr, base: "http://" + srv.addr}

	scaled := func(n int) int { return max(1, int(float64(n)*cfg.scale+0.5)) }
	// Started in this order: the attacks that need the longest to judge
	// first, so a short run still sees each one through.
	attacks := []*attack{
		chatLoad(e, scaled(20)),
		trickledBody(e, scaled(30)),
		slowConsumers(e, scaled(20)),
		slowloris(e, scaled(200)),
		idleKeepAlive(e, scaled(200)),
		pollingChurn(e, scaled(3)),
		oversized(e, scaled(2)),
	}
	if cfg.only != "" {
		want := strings.Split(cfg.only, ",")
		attacks = slices.DeleteFunc(attacks, func(a *attack) bool { return !slices.Contains(want, a.name) })
		if len(attacks) == 0 {
			return false, fmt.Errorf("-attacks %q names none of the attacks", cfg.only)
		}
	}
	fmt.Printf("sockio serve pid %d on %s (debug %s), file limit %d; attacks for %s\n",
		srv.cmd.Process.Pid, srv.addr, srv.debug, cfg.nofile, cfg.duration)
	for _, a := range attacks {
		fmt.Printf("  %-15s x%-4d %s\n", a.name, a.workers, a.what)
		if a.bound > 0 {
			fmt.Printf("  %-15s       the server must end each within %s: %s\n", "", fmtDur(a.bound), a.why)
		}
	}

	// Warm up (first connections create what lives for the process), then
	// take the starting values after a forced GC.
	e.start = time.Now()
	pr := &prober{env: e}
	for range 3 {
		pr.once(ctx, "warm-up")
	}
	pr.res = nil
	time.Sleep(time.Second)
	if err := srv.forceGC(ctx); err != nil {
		return false, err
	}
	start, err := srv.sample(ctx)
	if err != nil {
		return false, fmt.Errorf("first sample: %w", err)
	}
	e.start = time.Now()

	var phaseMu sync.Mutex
	phase := "baseline"
	getPhase := func() string { phaseMu.Lock(); defer phaseMu.Unlock(); return phase }
	setPhase := func(p string) { phaseMu.Lock(); phase = p; phaseMu.Unlock() }

	rec := &recorder{srv: srv, env: e, attacks: attacks, every: cfg.every, start: start, nofile: cfg.nofile, probes: pr}
	rec.header()
	sctx, stopSampling := context.WithCancel(ctx)
	pctx, stopProbes := context.WithCancel(ctx)
	var sampling, probing sync.WaitGroup
	sampling.Go(func() { rec.loop(sctx, getPhase) })
	probing.Go(func() { pr.loop(pctx, cfg.probeEvery, getPhase) })

	// The attacks, staggered in, then all at once.
	stagger := min(5*time.Second, cfg.duration/time.Duration(3*len(attacks)))
	stops := make([]func(), 0, len(attacks))
	end := time.Now().Add(cfg.baseline + cfg.duration)
	interrupted := !sleepCtx(ctx, cfg.baseline)
	for i, a := range attacks {
		if interrupted {
			break
		}
		a.startedAt = e.since()
		stops = append(stops, a.run(ctx))
		if i == len(attacks)-1 {
			setPhase("mix")
		} else {
			setPhase("+" + a.name)
		}
		interrupted = !sleepCtx(ctx, stagger)
	}
	if !interrupted {
		sleepCtx(ctx, time.Until(end))
	}
	var wg sync.WaitGroup
	for i, stop := range stops {
		wg.Go(func() { stop(); attacks[i].ranFor = e.since() - attacks[i].startedAt })
	}
	wg.Wait()
	stopSampling()
	sampling.Wait()
	setPhase("settle")
	attacksEnded := e.since()

	// Settle: the server must come back near its start; probes go on.
	// Not judged before every session the attacks abandoned has expired
	// by its heartbeat (pingInterval + pingTimeout, 45 s by default):
	// until then the server rightly holds it.
	least := settleMin(cfg)
	if cfg.settle < least {
		cfg.settle = least + time.Minute
	}
	settled, last := rec.settle(ctx, least, cfg.settle)
	stopProbes()
	probing.Wait()
	if ctx.Err() != nil {
		return false, fmt.Errorf("interrupted")
	}
	return report(srv, rec, pr, attacks, cfg, start, last, settled, attacksEnded), nil
}

// describe is a short list for messages.
func describe(items []string) string { return strings.Join(items, "; ") }
