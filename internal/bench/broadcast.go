package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// BroadcastParams configure the broadcast scenario.
type BroadcastParams struct {
	// N clients receive; client 0 also sends.
	N int
	// Room, when set, makes every client join it and the sender use
	// broadcast_room; empty uses broadcast (everyone).
	Room string
	// Singles is the number of lone broadcasts timed until the last of the
	// N clients has each.
	Singles int
	// Rate is the sender's target in broadcasts per second during the
	// sustained phase; 0 sends as fast as Window allows.
	Rate float64
	// Window caps the broadcasts in flight (sent, not yet delivered to all):
	// the sender waits rather than let the server's queues grow without end,
	// and no client falls more than Window broadcasts behind.
	Window int
	// Warmup and Duration of the sustained phase; only Duration is measured.
	Warmup, Duration time.Duration
	// Size is the payload string's length in bytes.
	Size int
	// MaxBroadcasts bounds the broadcasts of the sustained phase.
	MaxBroadcasts int
}

// seqState tracks one broadcast's deliveries.
type seqState struct {
	count atomic.Int32
	last  atomic.Int64 // latest receipt, ns since the run's epoch
}

// fanout is what the receivers share.
type fanout struct {
	epoch                  time.Time
	seqs                   []seqState
	n                      int32
	singles                int64
	perSingle              Histogram    // each delivery of a lone broadcast
	sustained              Histogram    // each delivery sent inside the measured window
	measureFrom, measureTo atomic.Int64 // ns since epoch; sends in between are measured
	delivered              atomic.Int64 // sustained-phase deliveries
	inWindow               atomic.Int64 // deliveries received inside the measured window
	bad                    atomic.Int64
}

func (f *fanout) now() int64 { return int64(time.Since(f.epoch)) }

// receive handles one event on any client.
func (f *fanout) receive(data []byte) {
	now := f.now()
	seq, sent, ok := parseStamp(data)
	if !ok || seq < 0 || seq >= int64(len(f.seqs)) {
		f.bad.Add(1)
		return
	}
	s := &f.seqs[seq]
	for {
		l := s.last.Load()
		if now <= l || s.last.CompareAndSwap(l, now) {
			break
		}
	}
	s.count.Add(1)
	lat := time.Duration(now - sent)
	if seq < f.singles {
		f.perSingle.Record(lat)
		return
	}
	f.delivered.Add(1)
	from, to := f.measureFrom.Load(), f.measureTo.Load()
	if from > 0 && sent >= from && (to == 0 || sent < to) {
		f.sustained.Record(lat)
	}
	if from > 0 && now >= from && (to == 0 || now < to) {
		f.inWindow.Add(1)
	}
}

// Broadcast connects N clients (into Room when set), times Singles lone
// broadcasts to all of them, then sends at Rate for Duration and reports
// deliveries per second, fan-out latency and loss.
func Broadcast(ctx context.Context, c Config, p BroadcastParams) (*Result, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.N <= 0 || p.Duration <= 0 {
		return nil, fmt.Errorf("broadcast: N and duration must be positive")
	}
	if p.Size <= 0 {
		p.Size = 64
	}
	if p.Window <= 0 {
		p.Window = 4
	}
	if p.MaxBroadcasts <= 0 {
		p.MaxBroadcasts = 200_000
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	res := newResult("broadcast", &cfg, map[string]any{"n": p.N, "room": p.Room, "rate": p.Rate, "window": p.Window,
		"size": p.Size, "singles": p.Singles, "duration_s": p.Duration.Seconds(), "warmup_s": p.Warmup.Seconds()})

	f := &fanout{epoch: time.Now(), seqs: make([]seqState, p.Singles+p.MaxBroadcasts), singles: int64(p.Singles)}
	var st openStats
	prog := startProgress(cfg.Progress, func() string {
		return fmt.Sprintf("broadcast %s: %d/%d connected", cfg.Target, st.ok.Load(), p.N)
	})
	joinArg := stringArg(p.Room)
	conns := openMany(ctx, &cfg, p.N, 0, &st, func(ctx context.Context, i int) (*sioConn, error) {
		sc, err := connectSIO(ctx, cfg.Addr, cfg.Path, i, cfg.ReadBuffer)
		if err != nil {
			return nil, err
		}
		if p.Room != "" {
			if err := joinRoom(ctx, sc, joinArg); err != nil {
				sc.ws.nc.Close()
				return nil, &phaseError{phase: "join", err: err}
			}
		}
		return sc, nil
	})
	prog.end()
	defer closeAll(conns, func(c *sioConn) {
		if c != nil {
			c.close()
		}
	})
	res.Failures = st.failures
	f.n = int32(st.ok.Load())
	res.set("clients_ok", float64(f.n))
	res.set("connect_s", time.Since(st.first).Seconds())
	sender := conns[0]
	if sender == nil || f.n == 0 {
		res.finish()
		return res, fmt.Errorf("broadcast: the sender could not connect (%d of %d clients did; %v)", f.n, p.N, st.failures)
	}
	if f.n < int32(p.N) {
		res.note("%d of %d clients failed to connect; delivery counts use the %d that did", int32(p.N)-f.n, p.N, f.n)
	}

	// Every client's receive side runs in one event loop on this goroutine;
	// the sender writes from it too.
	l, err := newLoop()
	if err != nil {
		return res, err
	}
	defer l.close()
	for i, sc := range conns {
		if sc == nil {
			continue
		}
		if _, err := l.add(sc.ws, i); err != nil {
			return res, err
		}
	}
	var loopErr error
	onMsg := func(c *lconn, op byte, msg []byte) {
		pk, ok := sioMessage(c, op, msg, func(err error) { f.bad.Add(1) })
		if ok && pk.typ == sioEvent {
			f.receive(pk.data)
		}
	}
	// pump handles arrivals for up to d (0: only what is ready now).
	pump := func(d time.Duration) {
		if loopErr == nil {
			_, loopErr = l.poll(d, onMsg)
		}
	}
	pumpFor := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end) && ctx.Err() == nil && loopErr == nil; {
			pump(min(time.Until(end), 10*time.Millisecond))
		}
	}
	var buf []byte
	send := func(seq int64) error {
		var stamp [64]byte
		arg := stampArg(stamp[:0], seq, f.now(), p.Size)
		if p.Room != "" {
			buf = appendEvent(buf[:0], "broadcast_room", -1, joinArg, arg)
		} else {
			buf = appendEvent(buf[:0], "broadcast", -1, arg)
		}
		if err := sender.emit(buf); err != nil {
			return fmt.Errorf("broadcast: send: %w", err)
		}
		return nil
	}

	// Lone broadcasts: the time until the last client has it.
	prog = startProgress(cfg.Progress, func() string {
		return fmt.Sprintf("broadcast %s: lone broadcasts, %d deliveries", cfg.Target, f.perSingle.Count())
	})
	var all Histogram
	incomplete := 0
	for k := 0; k < p.Singles && ctx.Err() == nil && loopErr == nil; k++ {
		t0 := f.now()
		if err := send(int64(k)); err != nil {
			prog.end()
			return res, err
		}
		s := &f.seqs[k]
		for deadline := time.Now().Add(10 * time.Second); s.count.Load() < f.n && time.Now().Before(deadline) && ctx.Err() == nil && loopErr == nil; {
			pump(10 * time.Millisecond)
		}
		if s.count.Load() < f.n {
			incomplete++
		} else {
			all.Record(time.Duration(s.last.Load() - t0))
		}
		pumpFor(20 * time.Millisecond) // let the server go idle between two
	}
	prog.end()
	if p.Singles > 0 {
		res.set("single_all_p50_ms", ms(all.Quantile(0.5)))
		res.set("single_all_p99_ms", ms(all.Quantile(0.99)))
		res.set("single_all_max_ms", ms(all.Max()))
		res.set("single_delivery_p50_ms", ms(f.perSingle.Quantile(0.5)))
		res.set("single_incomplete", float64(incomplete))
	}

	// Sustained phase.
	prog = startProgress(cfg.Progress, func() string {
		if f.measureFrom.Load() == 0 {
			return fmt.Sprintf("broadcast %s: warming up, %d deliveries", cfg.Target, f.delivered.Load())
		}
		return fmt.Sprintf("broadcast %s: %d deliveries, p99 %.1f ms", cfg.Target, f.delivered.Load(), ms(f.sustained.Quantile(0.99)))
	})
	defer prog.end()
	start := time.Now()
	measureAt, end := start.Add(p.Warmup), start.Add(p.Warmup+p.Duration)
	var cpu, selfCPU *cpuMeter
	var calls0 *ioMeter
	measuring := false
	sent := int64(0)
	stuck := 0
	oldest := int64(0) // first broadcast not yet delivered to all
	sentAt := make([]time.Time, p.Window)
	const stuckAfter = 5 * time.Second
	for ctx.Err() == nil && loopErr == nil && sent < int64(p.MaxBroadcasts) {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		if !measuring && !now.Before(measureAt) {
			measuring = true
			f.measureFrom.Store(f.now())
			cpu, selfCPU, calls0 = startCPU(cfg.PID), startCPU(pidSelf()), startIO(cfg.PID)
		}
		// The window: at most Window broadcasts not yet at every client, so
		// no client lags more than Window behind. A broadcast still missing
		// some clients after stuckAfter stops holding the window (counted).
		for oldest < sent && (f.seqs[p.Singles+int(oldest)].count.Load() >= f.n ||
			time.Since(sentAt[oldest%int64(len(sentAt))]) > stuckAfter) {
			if f.seqs[p.Singles+int(oldest)].count.Load() < f.n {
				stuck++
			}
			oldest++
		}
		if sent-oldest >= int64(p.Window) {
			pump(min(time.Until(end), 5*time.Millisecond))
			continue
		}
		if p.Rate > 0 {
			due := start.Add(time.Duration(float64(sent) / p.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				pump(min(d, time.Until(end)))
				continue
			}
		}
		sentAt[sent%int64(len(sentAt))] = time.Now()
		if err := send(int64(p.Singles) + sent); err != nil {
			return res, err
		}
		sent++
		pump(0)
	}
	f.measureTo.Store(f.now())
	window := time.Since(measureAt)
	cpuUsed, cpuShare := cpu.stop()
	_, selfShare := selfCPU.stop()
	calls, callsOK := calls0.stop()
	inWindow := f.inWindow.Load()
	// Drain: wait for the last broadcasts while they keep arriving; give up
	// after 3 s without progress or 20 s in all. What is missing then is lost.
	want := sent * int64(f.n)
	lastGot, lastProgress, drainEnd := f.delivered.Load(), time.Now(), time.Now().Add(20*time.Second)
	for f.delivered.Load() < want && time.Since(lastProgress) < 3*time.Second && time.Now().Before(drainEnd) &&
		loopErr == nil && ctx.Err() == nil {
		pump(10 * time.Millisecond)
		if g := f.delivered.Load(); g != lastGot {
			lastGot, lastProgress = g, time.Now()
		}
	}
	got := f.delivered.Load()
	res.set("broadcasts_sent", float64(sent))
	res.set("deliveries", float64(got))
	if window > 0 && measuring {
		res.set("delivered_per_s", float64(inWindow)/window.Seconds())
	}
	res.setLatency("fanout_", &f.sustained, 0.5, 0.99)
	res.set("lost", float64(want-got))
	if want > 0 {
		res.set("loss_pct", 100*float64(want-got)/float64(want))
	}
	res.set("bad_messages", float64(f.bad.Load()))
	res.set("window_stuck", float64(stuck))
	res.set("clients_closed", float64(int(f.n)-l.open()))
	if cpuUsed > 0 && inWindow > 0 {
		res.set("server_cpu_pct", cpuShare*100)
		res.set("server_cpu_us_per_delivery", float64(cpuUsed.Microseconds())/float64(inWindow))
		res.set("deliveries_per_server_cpu_s", float64(inWindow)/cpuUsed.Seconds())
	}
	if callsOK && inWindow > 0 {
		// One write per delivery means no batching of queued broadcasts.
		res.set("server_writes_per_delivery", float64(calls.writes)/float64(inWindow))
	}
	res.set("client_cpu_pct", selfShare*100)
	if selfShare > 0.9 {
		res.note("the load generator used %.0f%% of a core: delivered/s may be its limit, not the server's", selfShare*100)
	}
	if loopErr != nil {
		res.note("event loop: %v", loopErr)
	}
	res.finish()
	return res, nil
}

// joinRoom emits join(room) with an ack and waits for it.
func joinRoom(ctx context.Context, sc *sioConn, room []byte) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = sc.ws.nc.SetReadDeadline(dl)
		defer sc.ws.nc.SetReadDeadline(noDeadline)
	}
	if err := sc.emit(appendEvent(nil, "join", 0, room)); err != nil {
		return err
	}
	for {
		p, err := sc.next()
		if err != nil {
			return err
		}
		if p.typ == sioAck && p.id == 0 {
			return nil
		}
	}
}
