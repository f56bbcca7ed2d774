package main

import (
	"context"
	"fmt"
	"time"
)

// trickledBody opens a real polling session, then POSTs to it a body that
// announces 1000 bytes and sends one every 5 s. The server must cut the
// body off (a read deadline per POST), and in any case when the session
// ends (its heartbeat fails: nobody polls), not hold the request forever.
func trickledBody(env *env, workers int) *attack {
	return &attack{
		name:    "trickled-body",
		what:    "polling POST of 1000 announced bytes, 1 byte every 5 s, on a fresh session",
		workers: workers,
		pause:   100 * time.Millisecond,
		bound:   50 * time.Second,
		why:     "sockio cuts a POST body at PostTimeout, by default pingInterval + pingTimeout (45 s), when the session would be dead anyway (the reference: 30 s); plus 5 s slack",
		iter: func(ctx context.Context, a *attack, w, i int) {
			p := newPoller(env.base, nil)
			defer p.close()
			hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := p.handshake(hctx)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					a.outcome("handshake failed")
				}
				return
			}
			c, err := dialRaw(ctx, env.addr, nil, 0)
			if err != nil {
				a.outcome("dial failed")
				return
			}
			defer c.Close()
			defer a.conn()()
			defer closeOnCancel(ctx, c)()
			head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n",
				eioQuery("polling", p.sid), env.addr)
			began := time.Now()
			if _, err := c.Write([]byte(head + "4")); err != nil {
				a.outcome("write failed at once")
				return
			}
			tick := 0
			a.watch(ctx, c, began, func() error {
				tick++
				if tick%5 != 0 {
					return nil
				}
				_, err := c.Write([]byte{'a'})
				return err
			})
		},
	}
}
