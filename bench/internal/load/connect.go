package load

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ConnectParams configure the connect scenario.
type ConnectParams struct {
	// N is the number of connections to open.
	N int
	// Rate caps new connections per second; 0 opens as fast as
	// Config.Concurrency setups in flight allow.
	Rate float64
	// Settle is the wait between the last connection and the RSS reading,
	// so the server's allocator and GC catch up.
	Settle time.Duration
	// GCURL, when set, is fetched before each RSS reading a second time to
	// make the server collect garbage and return memory to the OS (bench
	// servers serve /debug/gc): RSS then shows live memory, not garbage
	// left by the handshakes.
	GCURL string
}

// Connect opens N Socket.IO connections over WebSocket, keeps them open
// (answering pings) and reports the accept rate, failures by class,
// connect latency and, with a PID, the server's RSS per connection.
func Connect(ctx context.Context, c Config, p ConnectParams) (*Result, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.N <= 0 {
		return nil, fmt.Errorf("connect: N must be positive")
	}
	if p.Settle <= 0 {
		p.Settle = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	res := newResult("connect", &cfg, map[string]any{"n": p.N, "rate": p.Rate, "concurrency": cfg.Concurrency, "transport": "websocket"})

	var before rssPair
	if cfg.PID > 0 {
		if before, err = readRSS(ctx, cfg.PID, p.GCURL); err != nil {
			return nil, err
		}
	}
	cpu, self := startCPU(cfg.PID), startCPU(pidSelf())
	var st openStats
	var readers sync.WaitGroup
	prog := startProgress(cfg.Progress, func() string {
		return fmt.Sprintf("connect %s: %d ok, %d failed of %d", cfg.Target, st.ok.Load(), st.failed.Load(), p.N)
	})
	conns := openMany(ctx, &cfg, p.N, p.Rate, &st, func(ctx context.Context, i int) (*sioConn, error) {
		sc, err := connectSIO(ctx, cfg.Addr, cfg.Path, i, 1024)
		if err != nil {
			return nil, err
		}
		// An idle client still answers the server's pings.
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, err := sc.next(); err != nil {
					return
				}
			}
		}()
		return sc, nil
	})
	prog.end()
	elapsed := time.Since(st.first)
	cpuUsed, cpuShare := cpu.stop()
	_, selfShare := self.stop()

	ok := st.ok.Load()
	res.set("connected", float64(ok))
	res.set("failed", float64(st.failed.Load()))
	res.set("accept_per_s", st.acceptRate())
	res.set("elapsed_s", elapsed.Seconds())
	res.setLatency("connect_", &st.latency, 0.5, 0.99)
	if ok > 0 && cpuUsed > 0 {
		res.set("server_cpu_pct", cpuShare*100)
		res.set("server_cpu_us_per_conn", float64(cpuUsed.Microseconds())/float64(ok))
		res.set("conns_per_server_cpu_s", float64(ok)/cpuUsed.Seconds())
	}
	res.set("client_cpu_pct", selfShare*100)
	res.Failures = st.failures

	if cfg.PID > 0 && ok > 0 {
		sleepCtx(ctx, p.Settle)
		if after, err := readRSS(ctx, cfg.PID, p.GCURL); err == nil {
			res.set("rss_before_mib", float64(before.raw)/(1<<20))
			res.set("rss_after_mib", float64(after.raw)/(1<<20))
			res.set("rss_per_conn_kib", float64(after.raw-before.raw)/float64(ok)/1024)
			if p.GCURL != "" {
				res.set("rss_per_conn_after_gc_kib", float64(after.gc-before.gc)/float64(ok)/1024)
			}
		} else {
			res.note("no RSS reading after connecting: %v", err)
		}
	}
	closeAll(conns, func(c *sioConn) {
		if c != nil {
			c.close()
		}
	})
	waitBounded(&readers, 5*time.Second)
	res.finish()
	return res, nil
}

// rssPair is the server's RSS as it stands and after a forced collection.
type rssPair struct{ raw, gc int64 }

func readRSS(ctx context.Context, pid int, gcURL string) (rssPair, error) {
	var p rssPair
	var err error
	if p.raw, err = procRSS(pid); err != nil || gcURL == "" {
		return p, err
	}
	if err := getOK(ctx, gcURL); err != nil {
		return p, err
	}
	time.Sleep(200 * time.Millisecond) // the OS updates RSS as pages are released
	p.gc, err = procRSS(pid)
	return p, err
}

// getOK fetches url and wants a 200; only loopback URLs are accepted.
func getOK(ctx context.Context, url string) error {
	if err := checkLoopbackURL(url); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("bad GC URL: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("failed to trigger the server's GC: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GC URL answered %s", resp.Status)
	}
	return nil
}

// waitBounded waits for wg at most d: the scenario must end by itself even
// if a server never closes its side.
func waitBounded(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
