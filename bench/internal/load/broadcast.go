package load

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// BroadcastParams configure the broadcast scenario.
type BroadcastParams struct {
	// N clients receive; client 0 also sends, unless PubAddr is set.
	N int
	// Room, when set, makes every client join it and the sender use
	// broadcast_room; empty uses broadcast (everyone).
	Room string
	// PubAddr, when set, is another node of the same cluster: the sender
	// is an extra client connected there, not one of the N receivers, so
	// every measured delivery crossed the cluster's broker (the crossnode
	// scenario). It must be on 127.0.0.0/8.
	PubAddr string
	// Singles is the number of lone broadcasts timed until the last of the
	// N clients has each.
	Singles int
	// Rate is the sender's target in broadcasts per second during the
	// sustained phase; 0 sends as fast as Window allows.
	Rate float64
	// Rates, when set, replaces Rate with a ladder: one sustained phase
	// (Warmup, then Duration) per rate, in order, on the same connections,
	// each reported as its own Result. The ladder stops after the step
	// that shows saturation: its deliveries/s grew by less than StopGain
	// over the best step so far, it sent less than 90% of its rate, its
	// fan-out p99 passed StopP99, or it lost deliveries.
	Rates []float64
	// StopGain is the ladder's least growth (default 0.05: 5%).
	StopGain float64
	// StopP99 is the ladder's latency limit (default 1s).
	StopP99 time.Duration
	// Window caps the broadcasts in flight (sent, not yet delivered to all):
	// the sender waits rather than let the server's queues grow without end,
	// and no client falls more than Window broadcasts behind.
	Window int
	// Warmup and Duration of the sustained phase; only Duration is measured.
	Warmup, Duration time.Duration
	// Size is the payload string's length in bytes.
	Size int
	// MaxBroadcasts bounds the broadcasts of the sustained phases (all the
	// ladder's steps together).
	MaxBroadcasts int
}

// seqState tracks one broadcast's deliveries.
type seqState struct {
	count atomic.Int32
	last  atomic.Int64 // latest receipt, ns since the run's epoch
}

// fanout is what the receivers share.
type fanout struct {
	epoch     time.Time
	seqs      []seqState
	n         int32
	singles   int64
	perSingle Histogram // each delivery of a lone broadcast
	// The current sustained step: broadcasts from stepFrom on belong to
	// it; one of an earlier step arriving late is only counted as late.
	stepFrom               atomic.Int64
	sustained              Histogram    // each delivery sent inside the measured window
	measureFrom, measureTo atomic.Int64 // ns since epoch; sends in between are measured
	delivered              atomic.Int64 // deliveries of the step's broadcasts
	inWindow               atomic.Int64 // deliveries received inside the measured window
	late                   atomic.Int64 // deliveries of an earlier step's broadcasts
	bad                    atomic.Int64
}

func (f *fanout) now() int64 { return int64(time.Since(f.epoch)) }

// startStep resets the per-step figures; broadcasts from seq on are the
// new step's.
func (f *fanout) startStep(seq int64) {
	f.stepFrom.Store(seq)
	f.sustained.reset()
	f.measureFrom.Store(0)
	f.measureTo.Store(0)
	f.delivered.Store(0)
	f.inWindow.Store(0)
	f.late.Store(0)
}

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
	if seq < f.stepFrom.Load() {
		f.late.Add(1)
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
	p.Rates = nil
	rs, err := BroadcastSteps(ctx, c, p)
	if len(rs) == 0 {
		return nil, err
	}
	return rs[0], err
}

// BroadcastSteps is Broadcast with the ladder of p.Rates (one Result per
// step run; p.Rate alone when p.Rates is empty). The lone broadcasts'
// figures are in the first Result.
func BroadcastSteps(ctx context.Context, c Config, p BroadcastParams) ([]*Result, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.N <= 0 || p.Duration <= 0 {
		return nil, fmt.Errorf("broadcast: N and duration must be positive")
	}
	if p.PubAddr != "" {
		if err := checkLoopbackAddr(p.PubAddr); err != nil {
			return nil, err
		}
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
	if p.StopGain <= 0 {
		p.StopGain = 0.05
	}
	if p.StopP99 <= 0 {
		p.StopP99 = time.Second
	}
	rates := p.Rates
	if len(rates) == 0 {
		rates = []float64{p.Rate}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	scenario := "broadcast"
	if p.PubAddr != "" {
		scenario = "crossnode"
	}
	newRes := func(step int, rate float64) *Result {
		params := map[string]any{"n": p.N, "room": p.Room, "rate": rate, "window": p.Window,
			"size": p.Size, "singles": p.Singles, "duration_s": p.Duration.Seconds(), "warmup_s": p.Warmup.Seconds()}
		if p.PubAddr != "" {
			params["pub_addr"] = p.PubAddr
		}
		if len(p.Rates) > 0 {
			params["step"] = step
		}
		return newResult(scenario, &cfg, params)
	}
	res := newRes(0, rates[0])

	r := &fanRun{cfg: &cfg, p: &p, scenario: scenario,
		f: &fanout{epoch: time.Now(), seqs: make([]seqState, p.Singles+p.MaxBroadcasts), singles: int64(p.Singles)}}
	if err := r.open(ctx, res); err != nil {
		res.finish()
		return []*Result{res}, err
	}
	defer r.close()
	if err := r.lone(ctx, res); err != nil {
		return []*Result{res}, err
	}

	var out []*Result
	best := 0.0
	for i, rate := range rates {
		if i > 0 {
			res = newRes(i, rate)
			res.set("clients_ok", float64(r.f.n))
			res.set("connect_s", r.connectS)
		}
		out = append(out, res)
		dps, err := r.sustain(ctx, res, rate)
		if err != nil {
			return out, err
		}
		if len(p.Rates) == 0 {
			break
		}
		why := ""
		switch {
		case res.Metrics["lost"] > 0:
			why = "deliveries lost"
		case res.Metrics["fanout_p99_ms"] > ms(p.StopP99):
			why = fmt.Sprintf("fan-out p99 past %v", p.StopP99)
		case rate > 0 && res.Metrics["broadcasts_per_s"] < 0.9*rate:
			why = "sent less than 90% of the rate asked"
		case i > 0 && dps < best*(1+p.StopGain):
			why = fmt.Sprintf("deliveries/s grew by less than %.0f%%", p.StopGain*100)
		}
		best = max(best, dps)
		if why != "" {
			res.set("saturated", 1)
			res.note("saturated: %s", why)
			break
		}
		res.set("saturated", 0)
		if ctx.Err() != nil || r.sent >= int64(p.MaxBroadcasts) {
			res.note("ladder stopped before saturation: out of time or broadcasts")
			break
		}
	}
	return out, nil
}

// fanRun is one run of the broadcast scenario: the receivers and the
// sender on one event loop.
type fanRun struct {
	cfg      *Config
	p        *BroadcastParams
	scenario string
	f        *fanout
	conns    []*sioConn
	sender   *sioConn
	own      *sioConn // the sender when it is not a receiver (PubAddr)
	l        *loop
	loopErr  error
	buf      []byte
	joinArg  []byte
	connectS float64
	sent     int64 // sustained broadcasts sent so far, all steps
}

// open connects the receivers (and the sender) and starts the event loop.
func (r *fanRun) open(ctx context.Context, res *Result) error {
	cfg, p, f := r.cfg, r.p, r.f
	var st openStats
	prog := startProgress(cfg.Progress, func() string {
		return fmt.Sprintf("%s %s: %d/%d connected", r.scenario, cfg.Target, st.ok.Load(), p.N)
	})
	r.joinArg = stringArg(p.Room)
	r.conns = openMany(ctx, cfg, p.N, 0, &st, func(ctx context.Context, i int) (*sioConn, error) {
		sc, err := connectSIO(ctx, cfg.Addr, cfg.Path, i, cfg.ReadBuffer)
		if err != nil {
			return nil, err
		}
		if p.Room != "" {
			if err := joinRoom(ctx, sc, r.joinArg); err != nil {
				sc.ws.nc.Close()
				return nil, &phaseError{phase: "join", err: err}
			}
		}
		return sc, nil
	})
	prog.end()
	res.Failures = st.failures
	f.n = int32(st.ok.Load())
	r.connectS = time.Since(st.first).Seconds()
	res.set("clients_ok", float64(f.n))
	res.set("connect_s", r.connectS)
	r.sender = r.conns[0]
	if p.PubAddr != "" {
		// The sender's own source address follows the receivers'.
		dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
		own, err := connectSIO(dctx, p.PubAddr, cfg.Path, p.N, cfg.ReadBuffer)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: the sender could not connect to %s: %w", r.scenario, p.PubAddr, err)
		}
		r.own, r.sender = own, own
	}
	if r.sender == nil || f.n == 0 {
		return fmt.Errorf("%s: the sender could not connect (%d of %d clients did; %v)", r.scenario, f.n, p.N, st.failures)
	}
	if f.n < int32(p.N) {
		res.note("%d of %d clients failed to connect; delivery counts use the %d that did", int32(p.N)-f.n, p.N, f.n)
	}

	// Every client's receive side runs in one event loop on this goroutine;
	// the sender writes from it too.
	l, err := newLoop()
	if err != nil {
		return err
	}
	r.l = l
	for i, sc := range r.conns {
		if sc == nil {
			continue
		}
		if _, err := l.add(sc.ws, i); err != nil {
			return err
		}
	}
	if r.own != nil {
		// Read, so its node never blocks on it, but not counted: -1.
		if _, err := l.add(r.own.ws, -1); err != nil {
			return err
		}
	}
	return nil
}

func (r *fanRun) close() {
	if r.l != nil {
		r.l.close()
	}
	closeAll(r.conns, func(c *sioConn) {
		if c != nil {
			c.close()
		}
	})
	if r.own != nil {
		r.own.close()
	}
}

func (r *fanRun) onMsg(c *lconn, op byte, msg []byte) {
	pk, ok := sioMessage(c, op, msg, func(err error) { r.f.bad.Add(1) })
	if ok && pk.typ == sioEvent && c.idx >= 0 {
		r.f.receive(pk.data)
	}
}

// pump handles arrivals for up to d (0: only what is ready now).
func (r *fanRun) pump(d time.Duration) {
	if r.loopErr == nil {
		_, r.loopErr = r.l.poll(d, r.onMsg)
	}
}

func (r *fanRun) pumpFor(ctx context.Context, d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end) && ctx.Err() == nil && r.loopErr == nil; {
		r.pump(min(time.Until(end), 10*time.Millisecond))
	}
}

func (r *fanRun) send(seq int64) error {
	var stamp [64]byte
	arg := stampArg(stamp[:0], seq, r.f.now(), r.p.Size)
	if r.p.Room != "" {
		r.buf = appendEvent(r.buf[:0], "broadcast_room", -1, r.joinArg, arg)
	} else {
		r.buf = appendEvent(r.buf[:0], "broadcast", -1, arg)
	}
	if err := r.sender.emit(r.buf); err != nil {
		return fmt.Errorf("%s: send: %w", r.scenario, err)
	}
	return nil
}

// lone times the lone broadcasts: the time until the last client has it.
func (r *fanRun) lone(ctx context.Context, res *Result) error {
	cfg, p, f := r.cfg, r.p, r.f
	prog := startProgress(cfg.Progress, func() string {
		return fmt.Sprintf("%s %s: lone broadcasts, %d deliveries", r.scenario, cfg.Target, f.perSingle.Count())
	})
	defer prog.end()
	var all Histogram
	incomplete := 0
	for k := 0; k < p.Singles && ctx.Err() == nil && r.loopErr == nil; k++ {
		t0 := f.now()
		if err := r.send(int64(k)); err != nil {
			return err
		}
		s := &f.seqs[k]
		for deadline := time.Now().Add(10 * time.Second); s.count.Load() < f.n && time.Now().Before(deadline) && ctx.Err() == nil && r.loopErr == nil; {
			r.pump(10 * time.Millisecond)
		}
		if s.count.Load() < f.n {
			incomplete++
		} else {
			all.Record(time.Duration(s.last.Load() - t0))
		}
		r.pumpFor(ctx, 20*time.Millisecond) // let the server go idle between two
	}
	if p.Singles > 0 {
		res.set("single_all_p50_ms", ms(all.Quantile(0.5)))
		res.set("single_all_p99_ms", ms(all.Quantile(0.99)))
		res.set("single_all_max_ms", ms(all.Max()))
		res.set("single_delivery_p50_ms", ms(f.perSingle.Quantile(0.5)))
		res.set("single_incomplete", float64(incomplete))
	}
	return nil
}

// sustain sends at rate for Warmup+Duration, drains, and sets the step's
// figures in res; it returns the deliveries per second.
func (r *fanRun) sustain(ctx context.Context, res *Result, rate float64) (float64, error) {
	cfg, p, f := r.cfg, r.p, r.f
	base := int64(p.Singles) + r.sent // this step's first sequence number
	f.startStep(base)
	prog := startProgress(cfg.Progress, func() string {
		if f.measureFrom.Load() == 0 {
			return fmt.Sprintf("%s %s: rate %g, warming up, %d deliveries", r.scenario, cfg.Target, rate, f.delivered.Load())
		}
		return fmt.Sprintf("%s %s: rate %g, %d deliveries, p99 %.1f ms", r.scenario, cfg.Target, rate, f.delivered.Load(), ms(f.sustained.Quantile(0.99)))
	})
	defer prog.end()
	start := time.Now()
	measureAt, end := start.Add(p.Warmup), start.Add(p.Warmup+p.Duration)
	var cpu, selfCPU *cpuMeter
	var others []*cpuMeter
	var calls0 *ioMeter
	var cores0 coreTimes
	measuring := false
	sent, sentMeasured := int64(0), int64(0)
	budget := int64(p.MaxBroadcasts) - r.sent
	stuck := 0
	oldest := int64(0) // first broadcast of the step not yet delivered to all
	sentAt := make([]time.Time, p.Window)
	const stuckAfter = 5 * time.Second
	for ctx.Err() == nil && r.loopErr == nil && sent < budget {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		if !measuring && !now.Before(measureAt) {
			measuring = true
			f.measureFrom.Store(f.now())
			cpu, selfCPU, calls0 = startCPU(cfg.PID), startCPU(pidSelf()), startIO(cfg.PID)
			cores0 = readCoreTimes()
			others = others[:0]
			for _, o := range cfg.OtherPIDs {
				others = append(others, startCPU(o.PID))
			}
		}
		// The window: at most Window broadcasts not yet at every client, so
		// no client lags more than Window behind. A broadcast still missing
		// some clients after stuckAfter stops holding the window (counted).
		for oldest < sent && (f.seqs[base+oldest].count.Load() >= f.n ||
			time.Since(sentAt[oldest%int64(len(sentAt))]) > stuckAfter) {
			if f.seqs[base+oldest].count.Load() < f.n {
				stuck++
			}
			oldest++
		}
		if sent-oldest >= int64(p.Window) {
			r.pump(min(time.Until(end), 5*time.Millisecond))
			continue
		}
		if rate > 0 {
			due := start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				r.pump(min(d, time.Until(end)))
				continue
			}
		}
		sentAt[sent%int64(len(sentAt))] = time.Now()
		if err := r.send(base + sent); err != nil {
			return 0, err
		}
		sent++
		if measuring {
			sentMeasured++
		}
		r.pump(0)
	}
	r.sent += sent
	f.measureTo.Store(f.now())
	window := time.Since(measureAt)
	cpuUsed, cpuShare := cpu.stop()
	_, selfShare := selfCPU.stop()
	calls, callsOK := calls0.stop()
	cores, softirqs := readCoreTimes().since(cores0)
	inWindow := f.inWindow.Load()
	// Drain: wait for the last broadcasts while they keep arriving; give up
	// after 3 s without progress or 20 s in all. What is missing then is lost.
	want := sent * int64(f.n)
	lastGot, lastProgress, drainEnd := f.delivered.Load(), time.Now(), time.Now().Add(20*time.Second)
	for f.delivered.Load() < want && time.Since(lastProgress) < 3*time.Second && time.Now().Before(drainEnd) &&
		r.loopErr == nil && ctx.Err() == nil {
		r.pump(10 * time.Millisecond)
		if g := f.delivered.Load(); g != lastGot {
			lastGot, lastProgress = g, time.Now()
		}
	}
	got := f.delivered.Load()
	res.set("broadcasts_sent", float64(sent))
	res.set("deliveries", float64(got))
	dps := 0.0
	if window > 0 && measuring {
		dps = float64(inWindow) / window.Seconds()
		res.set("delivered_per_s", dps)
		res.set("broadcasts_per_s", float64(sentMeasured)/window.Seconds())
	}
	res.setLatency("fanout_", &f.sustained, 0.5, 0.99)
	res.set("lost", float64(want-got))
	if want > 0 {
		res.set("loss_pct", 100*float64(want-got)/float64(want))
	}
	res.set("bad_messages", float64(f.bad.Load()))
	if l := f.late.Load(); l > 0 {
		res.set("late_from_earlier_step", float64(l))
	}
	res.set("window_stuck", float64(stuck))
	res.set("clients_closed", float64(int(f.n)-r.l.open()+btoi(r.own != nil)))
	if cpuUsed > 0 && inWindow > 0 {
		res.set("server_cpu_pct", cpuShare*100)
		res.set("server_cpu_us_per_delivery", float64(cpuUsed.Microseconds())/float64(inWindow))
		res.set("deliveries_per_server_cpu_s", float64(inWindow)/cpuUsed.Seconds())
		if r.own != nil && sentMeasured > 0 {
			res.set("server_cpu_us_per_broadcast", float64(cpuUsed.Microseconds())/float64(sentMeasured))
		}
	}
	// The other processes of the cluster (the sender's node, the broker):
	// their CPU over the same window, per delivery and per broadcast.
	for i, m := range others {
		used, share := m.stop()
		name := cfg.OtherPIDs[i].Label
		if m == nil {
			res.note("no CPU time for %s (pid %d)", name, cfg.OtherPIDs[i].PID)
			continue
		}
		res.set(name+"_cpu_pct", share*100)
		if inWindow > 0 {
			res.set(name+"_cpu_us_per_delivery", float64(used.Microseconds())/float64(inWindow))
		}
		if sentMeasured > 0 {
			res.set(name+"_cpu_us_per_broadcast", float64(used.Microseconds())/float64(sentMeasured))
		}
	}
	if callsOK && inWindow > 0 {
		// One write per delivery means no batching of queued broadcasts.
		res.set("server_writes_per_delivery", float64(calls.writes)/float64(inWindow))
	}
	res.set("client_cpu_pct", selfShare*100)
	// Whole cores, everyone's: what our processes do not account for ran
	// for someone else on a shared machine.
	for i, b := range cores {
		res.set(fmt.Sprintf("core%d_busy_pct", i), b)
		res.set(fmt.Sprintf("core%d_softirq_pct", i), softirqs[i])
	}
	if selfShare > 0.9 {
		res.note("the load generator used %.0f%% of a core: delivered/s may be its limit, not the server's", selfShare*100)
	}
	if r.loopErr != nil {
		res.note("event loop: %v", r.loopErr)
	}
	res.finish()
	return dps, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
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
