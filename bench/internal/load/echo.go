package load

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// EchoParams configure the echo scenario.
type EchoParams struct {
	// Clients run a closed loop each: emit, wait for the answer, repeat.
	Clients int
	// Warmup runs unmeasured before Duration is measured.
	Warmup, Duration time.Duration
	// Size is the payload string's length in bytes.
	Size int
	// Transport is "websocket" or "polling".
	Transport string
	// Raw sends plain WebSocket text messages to an echo server instead of
	// Socket.IO emit-with-ack: the baseline for the protocol's overhead.
	Raw bool
	// MaxRequests bounds the requests of the whole run, warm-up included.
	MaxRequests int64
}

// echoRun is what the echo loops share and the report reads.
type echoRun struct {
	p         EchoParams
	hist      Histogram
	measuring atomic.Bool
	stopping  atomic.Bool
	total     atomic.Int64 // requests sent, warm-up included
	counted   atomic.Int64 // answers inside the measured window
	errs      atomic.Int64
	firstErr  atomic.Value
}

func (r *echoRun) fail(err error) {
	if r.stopping.Load() {
		return
	}
	r.errs.Add(1)
	r.firstErr.CompareAndSwap(nil, err.Error())
}

// answered records one round trip; it reports whether to send the next.
func (r *echoRun) answered(sent time.Time) bool {
	if r.measuring.Load() {
		r.hist.Record(time.Since(sent))
		r.counted.Add(1)
	}
	return !r.stopping.Load() && r.total.Load() < r.p.MaxRequests
}

// Echo runs Clients closed loops of emit-with-ack ("echo") and reports
// acks per second, latency percentiles and the server's CPU per ack.
func Echo(ctx context.Context, c Config, p EchoParams) (*Result, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.Clients <= 0 || p.Duration <= 0 {
		return nil, fmt.Errorf("echo: clients and duration must be positive")
	}
	if p.Size <= 0 {
		p.Size = 64
	}
	if p.Transport == "" {
		p.Transport = "websocket"
	}
	if p.MaxRequests <= 0 {
		p.MaxRequests = 100_000_000
	}
	if p.Raw && p.Transport != "websocket" {
		return nil, fmt.Errorf("echo: raw mode is WebSocket only")
	}
	if p.Transport != "websocket" && p.Transport != "polling" {
		return nil, fmt.Errorf("echo: unknown transport %q", p.Transport)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	proto := "socket.io"
	if p.Raw {
		proto = "raw-websocket"
	}
	res := newResult("echo", &cfg, map[string]any{"clients": p.Clients, "size": p.Size, "transport": p.Transport,
		"proto": proto, "duration_s": p.Duration.Seconds(), "warmup_s": p.Warmup.Seconds()})
	run := &echoRun{p: p}
	payload := strings.Repeat("x", p.Size)

	var st openStats
	var measure func(window func()) error
	if p.Transport == "polling" {
		clients := openMany(ctx, &cfg, p.Clients, 0, &st, func(ctx context.Context, i int) (*pollConn, error) {
			return connectPolling(ctx, cfg.Addr, cfg.Path, i)
		})
		defer closeAll(clients, func(c *pollConn) {
			if c != nil {
				c.close()
			}
		})
		measure = func(window func()) error { return pollEchoLoops(run, clients, stringArg(payload), window) }
	} else {
		clients := openMany(ctx, &cfg, p.Clients, 0, &st, func(ctx context.Context, i int) (*wsConn, error) {
			if p.Raw {
				return dialWS(ctx, cfg.Addr, cfg.Path, i, cfg.ReadBuffer)
			}
			sc, err := connectSIO(ctx, cfg.Addr, cfg.Path, i, cfg.ReadBuffer)
			if err != nil {
				return nil, err
			}
			return sc.ws, nil
		})
		defer closeAll(clients, func(c *wsConn) {
			if c != nil {
				c.close()
			}
		})
		measure = func(window func()) error { return wsEchoLoop(ctx, run, clients, payload, window) }
	}
	res.Failures = st.failures
	if st.failed.Load() > 0 {
		res.note("%d of %d clients failed to connect; the loop ran with the rest", st.failed.Load(), p.Clients)
	}
	if st.ok.Load() == 0 {
		res.finish()
		return res, fmt.Errorf("echo: no client could connect (%v)", st.failures)
	}

	prog := startProgress(cfg.Progress, func() string {
		return fmt.Sprintf("echo %s: %d acks measured, p99 %.2f ms", cfg.Target, run.counted.Load(), ms(run.hist.Quantile(0.99)))
	})
	var (
		window          time.Duration
		cpuUsed         time.Duration
		cpuShare, share float64
		calls           ioCounts
		callsOK         bool
	)
	// window runs the timeline (warm-up, measured window, stop) on its own
	// goroutine while the loops run; it returns once stopping is set.
	err = measure(func() {
		sleepCtx(ctx, p.Warmup)
		run.measuring.Store(true)
		t0 := time.Now()
		cpu, self, calls0 := startCPU(cfg.PID), startCPU(pidSelf()), startIO(cfg.PID)
		sleepCtx(ctx, p.Duration)
		run.measuring.Store(false)
		window = time.Since(t0)
		cpuUsed, cpuShare = cpu.stop()
		calls, callsOK = calls0.stop()
		_, share = self.stop()
		run.stopping.Store(true)
	})
	prog.end()
	if err != nil {
		res.finish()
		return res, err
	}
	n := run.counted.Load()
	res.set("clients_ok", float64(st.ok.Load()))
	res.set("acks_per_s", float64(n)/window.Seconds())
	res.setLatency("", &run.hist, 0.5, 0.9, 0.99)
	res.set("errors", float64(run.errs.Load()))
	if cpuUsed > 0 && n > 0 {
		res.set("server_cpu_pct", cpuShare*100)
		res.set("server_cpu_us_per_ack", float64(cpuUsed.Microseconds())/float64(n))
		// What one dedicated core would sustain at this cost: robust to CPU
		// that other work on a shared machine takes from the server.
		res.set("acks_per_server_cpu_s", float64(n)/cpuUsed.Seconds())
	}
	if callsOK && n > 0 {
		// Each system call costs microseconds on loopback: how many a
		// message needs says how much batching the server does.
		res.set("server_reads_per_ack", float64(calls.reads)/float64(n))
		res.set("server_writes_per_ack", float64(calls.writes)/float64(n))
	}
	res.set("client_cpu_pct", share*100)
	if share > 0.9 {
		res.note("the load generator used %.0f%% of a core: the figure may be its limit, not the server's", share*100)
	}
	if e := run.firstErr.Load(); e != nil {
		res.note("first error: %v", e)
	}
	res.finish()
	return res, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
