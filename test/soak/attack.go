package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// An attack is a pool of workers, each repeating one bounded iteration
// (connect, misbehave, see what the server does) until the attack is
// stopped. Every iteration ends within its own time bound, and a worker
// makes at most maxIterations of them.
type attack struct {
	name    string
	what    string // one line for the report
	workers int
	pause   time.Duration // between two iterations of a worker
	// bound, when set, is how soon the server must end an attacker's
	// connection (and why): the harness holds a connection bound+grace at
	// most, then counts it as held.
	bound time.Duration
	why   string
	iter  func(ctx context.Context, a *attack, worker, i int)
	// judge says whether the server held, from the records; nil for the
	// default judgement (every connection ended by the server in bound).
	judge func(a *attack) (bool, string)

	active     atomic.Int64 // attacker connections open now
	iterations atomic.Int64
	mu         sync.Mutex
	outcomes   map[string]int
	ended      []time.Duration // how long the server took to end each connection
	late       int             // connections ended after the bound or held past it
	startedAt  time.Duration
	ranFor     time.Duration
}

const (
	maxIterations = 1_000_000 // per worker; time ends an attack long before
	holdGrace     = 5 * time.Second
)

// outcome counts what happened to one iteration.
func (a *attack) outcome(what string) {
	a.mu.Lock()
	if a.outcomes == nil {
		a.outcomes = map[string]int{}
	}
	a.outcomes[what]++
	a.mu.Unlock()
}

// serverEnded records that the server ended an attacker's connection d
// after the attack on it began.
func (a *attack) serverEnded(d time.Duration) {
	a.mu.Lock()
	a.ended = append(a.ended, d)
	if a.bound > 0 && d > a.bound {
		a.late++
	}
	a.mu.Unlock()
}

// held records a connection the server had not ended at the hold limit.
func (a *attack) held() {
	a.mu.Lock()
	a.late++
	a.mu.Unlock()
	a.outcome("held open past " + fmtDur(a.bound+holdGrace))
}

// run starts the workers; the returned function stops them and waits.
func (a *attack) run(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range a.workers {
		wg.Go(func() {
			for i := 0; i < maxIterations && ctx.Err() == nil; i++ {
				a.iterations.Add(1)
				a.iter(ctx, a, w, i)
				if a.pause > 0 && !sleepCtx(ctx, a.pause) {
					return
				}
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

// conn marks an attacker connection open until the returned function runs.
func (a *attack) conn() (done func()) {
	a.active.Add(1)
	var once sync.Once
	return func() { once.Do(func() { a.active.Add(-1) }) }
}

// watch keeps c as the attack wants (tick, called about every second: the
// next trickled byte, a pong) until the server ends it or the hold limit
// passes. It records which, and returns whether the server ended it. A
// read of anything (an error response) or a failed write counts as the
// server ending the connection: either way it stops serving the attacker.
func (a *attack) watch(ctx context.Context, c *rawConn, began time.Time, tick func() error) bool {
	buf := make([]byte, 512)
	hold := a.bound + holdGrace
	for ctx.Err() == nil {
		if time.Since(began) > hold {
			a.held()
			return false
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		_, err := c.br.Read(buf)
		switch {
		case err == nil || err == io.EOF || !isTimeout(err):
			if ctx.Err() != nil {
				return false // our own close
			}
			a.serverEnded(time.Since(began))
			a.outcome("ended by the server")
			return true
		}
		if tick != nil {
			if err := tick(); err != nil {
				if ctx.Err() != nil {
					return false
				}
				a.serverEnded(time.Since(began))
				a.outcome("ended by the server (write failed)")
				return true
			}
		}
	}
	return false
}

// closeOnCancel closes c when ctx ends, so an attack stops at once.
func closeOnCancel(ctx context.Context, c io.Closer) (stop func() bool) {
	return context.AfterFunc(ctx, func() { _ = c.Close() })
}

// verdict judges the attack: its own rule, or by default every connection
// the server ended within the bound, and at least one seen ended.
func (a *attack) verdict() (bool, string) {
	if a.judge != nil {
		return a.judge(a)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.ended)
	if a.late > 0 {
		return false, fmt.Sprintf("%d connection(s) not ended within %s", a.late, fmtDur(a.bound))
	}
	if n == 0 {
		return false, "no connection ended by the server during the run (run longer?)"
	}
	return true, fmt.Sprintf("all %d ended within %s", n, fmtDur(a.bound))
}

// endedStats is the median and the longest time the server took.
func (a *attack) endedStats() (n int, med, maxd time.Duration) {
	a.mu.Lock()
	d := slices.Clone(a.ended)
	a.mu.Unlock()
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	return len(d), d[len(d)/2], d[len(d)-1]
}

func (a *attack) outcomeLine() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	keys := slices.Sorted(maps.Keys(a.outcomes))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, a.outcomes[k]))
	}
	return strings.Join(parts, ", ")
}

func fmtDur(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(time.Second).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// watchWrites is watch for a client that never reads: the server ending
// the connection shows as a failed write (the peer answers data sent to a
// closed socket with a reset), so it writes every interval.
func (a *attack) watchWrites(ctx context.Context, c *rawConn, began time.Time, every time.Duration, write func() error) bool {
	hold := a.bound + holdGrace
	for sleepCtx(ctx, every) {
		if err := write(); err != nil {
			if ctx.Err() != nil {
				return false
			}
			a.serverEnded(time.Since(began))
			a.outcome("ended by the server")
			return true
		}
		if time.Since(began) > hold {
			a.held()
			return false
		}
	}
	return false
}
