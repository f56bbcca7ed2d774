package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// oversized sends handshakes with 900 kB of headers or a 500 kB query.
// The server must refuse them (431 and 414, as the reference does) rather
// than open a session that keeps them: 200 such sessions held 310 MB.
func oversized(env *env, workers int) *attack {
	pad := strings.Repeat("x", 1000)
	var bigHeads strings.Builder
	for i := range 900 {
		fmt.Fprintf(&bigHeads, "X-Pad-%d: %s\r\n", i, pad)
	}
	heads := bigHeads.String()
	query := strings.Repeat("q", 500_000)
	a := &attack{
		name:    "oversized",
		what:    "polling handshakes with 900 kB of headers, or a 500 kB query",
		workers: workers,
		pause:   500 * time.Millisecond, // bounds the bandwidth: ~2 MB/s a worker
	}
	a.iter = func(ctx context.Context, a *attack, w, i int) {
		c, err := dialRaw(ctx, env.addr, nil, 0)
		if err != nil {
			a.outcome("dial failed")
			return
		}
		defer c.Close()
		defer a.conn()()
		defer closeOnCancel(ctx, c)()
		_ = c.SetDeadline(time.Now().Add(15 * time.Second))
		kind, req := "headers", "GET "+eioQuery("polling", "")+" HTTP/1.1\r\nHost: "+env.addr+"\r\n"+heads+"\r\n"
		if i%2 == 1 {
			kind, req = "query", "GET "+eioQuery("polling", "")+"&pad="+query+" HTTP/1.1\r\nHost: "+env.addr+"\r\n\r\n"
		}
		_, werr := c.Write([]byte(req))
		code, body, rerr := readResponse(c.br)
		switch {
		case rerr == nil && code == 200:
			// A session was opened with what it was sent: the failure.
			// Close it, so a failing server does not take the machine's
			// memory with it (the run has its answer already).
			a.outcome(kind + ": 200, session opened")
			if o, err := parseOpen(body); err == nil {
				p := newPoller(env.base, nil)
				p.sid = o.SID
				p.leave(ctx)
				p.close()
			}
		case rerr == nil:
			a.outcome(fmt.Sprintf("%s: %d", kind, code))
		case werr != nil:
			a.outcome(kind + ": connection closed while sending")
		case ctx.Err() == nil:
			a.outcome(kind + ": closed without a response")
		}
	}
	a.judge = func(a *attack) (bool, string) {
		a.mu.Lock()
		defer a.mu.Unlock()
		bad := a.outcomes["headers: 200, session opened"] + a.outcomes["query: 200, session opened"]
		total := 0
		for _, n := range a.outcomes {
			total += n
		}
		if bad > 0 {
			return false, fmt.Sprintf("%d of %d oversized handshakes opened a session", bad, total)
		}
		if total == 0 {
			return false, "no attempt completed"
		}
		return true, fmt.Sprintf("all %d refused", total)
	}
	return a
}
