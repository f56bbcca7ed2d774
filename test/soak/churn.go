package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// pollingChurn opens polling sessions that join the chat, poll a couple of
// times and are abandoned without a close, each from a new address: every
// one stays in the server until its heartbeat fails (pingInterval +
// pingTimeout, 45 s), so the server must carry rate x 45 s of them and
// then let every one go. The settle check at the end is the real test;
// here a handshake that fails during the attack is a failure to serve.
func pollingChurn(env *env, workers int) *attack {
	var visitors atomic.Int64
	a := &attack{
		name:    "polling-churn",
		what:    "polling sessions: handshake, CONNECT to the chat, two polls, abandoned (a new address each)",
		workers: workers,
		pause:   time.Second, // ~workers sessions a second
	}
	a.iter = func(ctx context.Context, a *attack, w, i int) {
		p := newPoller(env.base, visitor(netChurn, int(visitors.Add(1))))
		defer p.close()
		done := a.conn()
		defer done()
		step := func(d time.Duration, f func(context.Context) error) error {
			sctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return f(sctx)
		}
		if err := step(5*time.Second, p.handshake); err != nil {
			if ctx.Err() == nil {
				a.outcome("handshake failed: " + errClass(err))
			}
			return
		}
		if err := step(5*time.Second, func(c context.Context) error { return p.send(c, connectPacket("churn")) }); err != nil {
			if ctx.Err() == nil {
				a.outcome("CONNECT failed: " + errClass(err))
			}
			return
		}
		connected := false
		for range 2 {
			_ = step(3*time.Second, func(c context.Context) error {
				pk, err := p.poll(c)
				for _, s := range pk {
					if strings.HasPrefix(s, "40") {
						connected = true
					}
				}
				return err
			})
		}
		if connected {
			a.outcome("joined, abandoned")
		} else if ctx.Err() == nil {
			a.outcome("no CONNECT answer in 2 polls")
		}
	}
	a.judge = func(a *attack) (bool, string) {
		a.mu.Lock()
		defer a.mu.Unlock()
		failed, ok := 0, a.outcomes["joined, abandoned"]
		for k, n := range a.outcomes {
			if strings.HasPrefix(k, "handshake failed") {
				failed += n
			}
		}
		if failed > 0 {
			return false, fmt.Sprintf("%d handshake(s) failed during the churn", failed)
		}
		if ok == 0 {
			return false, "no session completed"
		}
		return true, fmt.Sprintf("%d sessions opened and abandoned", ok)
	}
	return a
}
