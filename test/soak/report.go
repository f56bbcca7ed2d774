package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// recorder samples the server every second and prints a table row every
// `every`.
type recorder struct {
	srv     *server
	env     *env
	attacks []*attack
	every   time.Duration
	start   sample
	nofile  int
	probes  *prober

	rowMu      sync.Mutex
	probesUpTo int

	mu      sync.Mutex
	samples []sample
	errs    int
	lastRow time.Duration
}

func (r *recorder) header() {
	fmt.Printf("\n%7s  %-16s %6s %6s %8s %8s %9s %7s %7s\n",
		"t", "phase", "fds", "gorout", "rss MiB", "heap MiB", "attackers", "probes", "max ms")
	r.row(sample{phase: "start", fds: r.start.fds, goroutines: r.start.goroutines, rss: r.start.rss, heap: r.start.heap})
}

func (r *recorder) attackers() int64 {
	var n int64
	for _, a := range r.attacks {
		n += a.active.Load()
	}
	return n
}

// take samples once; gc first when asked.
func (r *recorder) take(ctx context.Context, phase string, gc bool) (sample, bool) {
	if gc {
		_ = r.srv.forceGC(ctx)
	}
	sm, err := r.srv.sample(ctx)
	if err != nil {
		r.mu.Lock()
		r.errs++
		r.mu.Unlock()
		if ctx.Err() == nil && r.srv.alive() {
			fmt.Println("sample:", err)
		}
		return sm, false
	}
	sm.at, sm.phase, sm.attackers = r.env.since(), phase, r.attackers()
	r.mu.Lock()
	r.samples = append(r.samples, sm)
	print := sm.at-r.lastRow >= r.every-100*time.Millisecond
	if print {
		r.lastRow = sm.at
	}
	r.mu.Unlock()
	if print {
		r.row(sm)
	}
	return sm, true
}

func (r *recorder) loop(ctx context.Context, phase func() string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !r.srv.alive() {
			fmt.Println("sockio serve exited")
			return
		}
		r.take(ctx, phase(), false)
	}
}

// row prints a sample with what the probes saw since the previous row:
// served/made and the slowest.
func (r *recorder) row(sm sample) {
	probes, maxd := "", ""
	r.rowMu.Lock()
	if r.probes != nil {
		res := r.probes.results()
		st := summarize(res[min(r.probesUpTo, len(res)):], 0)
		r.probesUpTo = len(res)
		probes, maxd = fmt.Sprintf("%d/%d", st.n-st.failed, st.n), ms(st.max)
	}
	r.rowMu.Unlock()
	fmt.Printf("%7s  %-16s %6d %6d %8s %8s %9d %7s %7s\n", fmtDur(sm.at), sm.phase, sm.fds, sm.goroutines,
		mib(sm.rss), mib(int64(sm.heap)), sm.attackers, probes, maxd)
}

// within says which measures are not back near the start.
func (r *recorder) within(sm sample) []string {
	var out []string
	if sm.fds > r.start.fds+fdMargin {
		out = append(out, fmt.Sprintf("fds %d > %d+%d", sm.fds, r.start.fds, fdMargin))
	}
	if sm.goroutines > r.start.goroutines+goroutineMargin {
		out = append(out, fmt.Sprintf("goroutines %d > %d+%d", sm.goroutines, r.start.goroutines, goroutineMargin))
	}
	if sm.heap > r.start.heap+heapMargin {
		out = append(out, fmt.Sprintf("heap %s MiB > %s+%s", mib(int64(sm.heap)), mib(int64(r.start.heap)), mib(heapMargin)))
	}
	if sm.rss > r.start.rss+rssMargin {
		out = append(out, fmt.Sprintf("RSS %s MiB > %s+%s", mib(sm.rss), mib(r.start.rss), mib(rssMargin)))
	}
	return out
}

// settle samples every second after a forced GC until three samples in a
// row are near the start, from least on, or limit passes.
func (r *recorder) settle(ctx context.Context, least, limit time.Duration) (bool, sample) {
	began := time.Now()
	deadline := began.Add(max(least, limit))
	good := 0
	var last sample
	for time.Now().Before(deadline) && r.srv.alive() {
		if !sleepCtx(ctx, time.Second) {
			break
		}
		sm, ok := r.take(ctx, "settle", true)
		if !ok {
			continue
		}
		last = sm
		if len(r.within(sm)) == 0 && time.Since(began) >= least {
			good++
			if good == 3 {
				r.row(sm)
				return true, sm
			}
		} else {
			good = 0
		}
	}
	if last.at > 0 {
		r.row(last)
	}
	return false, last
}

func (r *recorder) peak() sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var p sample
	for _, s := range r.samples {
		p.fds = max(p.fds, s.fds)
		p.goroutines = max(p.goroutines, s.goroutines)
		p.rss = max(p.rss, s.rss)
		p.heap = max(p.heap, s.heap)
		p.attackers = max(p.attackers, s.attackers)
	}
	return p
}

// report prints the summary and returns whether the server held.
func report(srv *server, rec *recorder, pr *prober, attacks []*attack, cfg config, start, last sample, settled bool, attacksEnded time.Duration) bool {
	var failures []string
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "\n== attacks (%s each, staggered in; then the settle)\n", cfg.duration)
	fmt.Fprintln(w, "attack\tworkers\titerations\tserver ended\tmedian\tmax\tbound\tverdict")
	for _, a := range attacks {
		ok, why := a.verdict()
		n, med, mx := a.endedStats()
		bound := "-"
		if a.bound > 0 {
			bound = fmtDur(a.bound)
		}
		verdict := "held: " + why
		if !ok {
			verdict = "NOT HELD: " + why
			failures = append(failures, a.name+": "+why)
		}
		medS, maxS := "-", "-"
		if n > 0 {
			medS, maxS = fmtDur(med), fmtDur(mx)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", a.name, a.workers, a.iterations.Load(), n, medS, maxS, bound, verdict)
	}
	w.Flush()
	fmt.Println("\noutcomes:")
	for _, a := range attacks {
		fmt.Printf("  %-15s %s\n", a.name, a.outcomeLine())
	}

	res := pr.results()
	fmt.Fprintf(w, "\n== probes (a new client each; limit %s)\n", cfg.limit)
	fmt.Fprintln(w, "phase\tkind\tprobes\tfailed\tover limit\tp99 ms\tmax ms")
	var phases []string
	for _, r := range res {
		if !slices.Contains(phases, r.phase) {
			phases = append(phases, r.phase)
		}
	}
	for _, ph := range phases {
		for _, kind := range []string{"websocket", "polling"} {
			var sel []probeResult
			for _, r := range res {
				if r.phase == ph && r.kind == kind {
					sel = append(sel, r)
				}
			}
			if len(sel) == 0 {
				continue
			}
			st := summarize(sel, cfg.limit)
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", ph, kind, st.n, st.failed, st.over, ms(st.p99), ms(st.max))
			// Any failure, any probe past the hard limit, or more than
			// slowShare of them past -limit fails the run: a server that
			// is exhausted fails or stalls many probes; a busy machine
			// (CI shares two cores) delays a few by a scheduling slice.
			if st.failed > 0 || st.max > cfg.hardLimit || st.over*100 > st.n*cfg.slowShare {
				what := fmt.Sprintf("%s probe in phase %s: %d of %d over %s or failed, %d failed (max %s ms, hard limit %s, at most %d%% may be over %s",
					kind, ph, st.over, st.n, cfg.limit, st.failed, ms(st.max), cfg.hardLimit, cfg.slowShare, cfg.limit)
				if st.worst.err != nil {
					what += ", e.g. " + oneLine(st.worst.err.Error())
				}
				failures = append(failures, what+")")
			}
		}
	}
	all := summarize(res, cfg.limit)
	fmt.Fprintf(w, "all\t\t%d\t%d\t%d\t%s\t%s\n", all.n, all.failed, all.over, ms(all.p99), ms(all.max))
	w.Flush()

	peak := rec.peak()
	fmt.Fprintf(w, "\n== server resources (end: after a forced GC, %s after the attacks stopped)\n", fmtDur(last.at-attacksEnded))
	fmt.Fprintln(w, "measure\tstart\tpeak\tend\tallowed at end\twhy")
	fmt.Fprintf(w, "fds\t%d\t%d\t%d\t<= %d\tpollers' epoll sets may stay; per-connection files must not (limit %d)\n",
		start.fds, peak.fds, last.fds, start.fds+fdMargin, cfg.nofile)
	fmt.Fprintf(w, "goroutines\t%d\t%d\t%d\t<= %d\tlong-lived workers may stay; none per connection or session\n",
		start.goroutines, peak.goroutines, last.goroutines, start.goroutines+goroutineMargin)
	fmt.Fprintf(w, "heap MiB\t%s\t%s\t%s\t<= %s\tchat history, runtime caches and the recovery store (16 MiB) may stay after a GC\n",
		mib(int64(start.heap)), mib(int64(peak.heap)), mib(int64(last.heap)), mib(int64(start.heap)+heapMargin))
	fmt.Fprintf(w, "RSS MiB\t%s\t%s\t%s\t<= %s\tfreed pages go back to the OS gradually\n",
		mib(start.rss), mib(peak.rss), mib(last.rss), mib(start.rss+rssMargin))
	w.Flush()
	fmt.Printf("attacker connections at once: peak %d\n", peak.attackers)
	if !settled {
		failures = append(failures, "not back near the start within "+cfg.settle.String()+": "+describe(rec.within(last)))
	}
	if !srv.alive() {
		failures = append(failures, fmt.Sprintf("sockio serve exited during the run: %v", srv.waitErr))
	}
	if peak.fds >= cfg.nofile*9/10 {
		failures = append(failures, fmt.Sprintf("fds reached %d of the %d limit", peak.fds, cfg.nofile))
	}

	if len(failures) == 0 {
		fmt.Println("\nPASS: every probe served in time, every attack contained, resources back near the start")
		return true
	}
	fmt.Println("\nFAIL:")
	for _, f := range failures {
		fmt.Println("  -", f)
	}
	tail := srv.logTail(1500)
	if tail != "" {
		fmt.Println("\nend of the server's log:")
		fmt.Println(strings.TrimRight(tail, "\n"))
	}
	return false
}
