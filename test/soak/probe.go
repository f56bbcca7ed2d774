package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// A probe is a new visitor: a websocket client (Engine.IO handshake, then
// Socket.IO CONNECT answered) and a polling client (handshake, CONNECT,
// the poll that brings its answer), each on fresh connections from an
// address not seen for minutes. It must be served in time whatever the
// attacks do.
type probeResult struct {
	at      time.Duration
	phase   string
	kind    string // "websocket" or "polling"
	latency time.Duration
	err     error
}

type prober struct {
	env *env
	mu  sync.Mutex
	res []probeResult
	n   int
}

func (p *prober) loop(ctx context.Context, every time.Duration, phase func() string) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.once(ctx, phase())
	}
}

func (p *prober) once(ctx context.Context, phase string) {
	for _, kind := range []string{"websocket", "polling"} {
		p.n++
		local := visitor(netProbe, p.n)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		at := p.env.since()
		var d time.Duration
		var err error
		if kind == "websocket" {
			d, err = probeWebSocket(pctx, p.env.base, local)
		} else {
			d, err = probePolling(pctx, p.env.base, local)
		}
		cancel()
		if ctx.Err() != nil {
			return // the run ended under the probe: not the server's fault
		}
		p.mu.Lock()
		p.res = append(p.res, probeResult{at: at, phase: phase, kind: kind, latency: d, err: err})
		p.mu.Unlock()
	}
}

func probeWebSocket(ctx context.Context, base string, local *net.TCPAddr) (time.Duration, error) {
	start := time.Now()
	cl, err := dialSocketIO(ctx, base, local, "probe")
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	_ = cl.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	cl.c.Close()
	return d, nil
}

func probePolling(ctx context.Context, base string, local *net.TCPAddr) (time.Duration, error) {
	p := newPoller(base, local)
	defer p.close()
	start := time.Now()
	if err := p.handshake(ctx); err != nil {
		return time.Since(start), err
	}
	defer p.leave(ctx)
	if err := p.send(ctx, connectPacket("probe")); err != nil {
		return time.Since(start), err
	}
	for range 3 {
		pk, err := p.poll(ctx)
		if err != nil {
			return time.Since(start), err
		}
		for _, s := range pk {
			if strings.HasPrefix(s, "40") {
				return time.Since(start), nil
			}
			if strings.HasPrefix(s, "44") {
				return time.Since(start), fmt.Errorf("CONNECT refused: %.100s", s)
			}
		}
	}
	return time.Since(start), fmt.Errorf("no CONNECT answer in 3 polls")
}

// probeStats summarises results: count, failures, p99 and max latency,
// and the worst probe.
type probeStats struct {
	n, failed, over int
	p99, max        time.Duration
	worst           probeResult
}

func summarize(res []probeResult, limit time.Duration) probeStats {
	var st probeStats
	lat := make([]time.Duration, 0, len(res))
	for _, r := range res {
		st.n++
		if r.err != nil {
			st.failed++
		}
		if r.err != nil || r.latency > limit {
			st.over++
		}
		lat = append(lat, r.latency)
		if r.latency > st.max || (r.err != nil && st.worst.err == nil) {
			if r.latency > st.max {
				st.max = r.latency
			}
			st.worst = r
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		st.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return st
}

func (p *prober) results() []probeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.res)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
