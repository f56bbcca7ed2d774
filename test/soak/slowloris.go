package main

import (
	"context"
	"fmt"
	"time"
)

// slowloris sends request heads a byte at a time and never finishes them.
// The server must give up on a head after its header timeout, whatever
// the head looks like: a websocket upgrade (taken by sockio.Serve's fast
// path), a polling POST (handed from the fast path to net/http, which must
// not restart the clock), or a page.
func slowloris(env *env, workers int) *attack {
	starts := []string{
		"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n",
		"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\n",
		"GET / HTTP/1.1\r\nHost: %s\r\n",
	}
	return &attack{
		name:    "slowloris",
		what:    "request heads trickled 1 byte/s, never finished (upgrade, POST and page heads; half from their first byte)",
		workers: workers,
		pause:   100 * time.Millisecond,
		bound:   12 * time.Second,
		why:     "one 10 s header timeout (ReadHeaderTimeout), not restarted when sockio.Serve's fast path hands a head to net/http (before the fix: 14 s), plus 2 s slack",
		iter: func(ctx context.Context, a *attack, w, i int) {
			c, err := dialRaw(ctx, env.addr, nil, 0)
			if err != nil {
				a.outcome("dial failed")
				return
			}
			defer c.Close()
			defer a.conn()()
			defer closeOnCancel(ctx, c)()
			began := time.Now()
			// Two kinds: the head's start at once (the server knows what
			// it reads), then a header that never ends; or the whole head
			// trickled from its first byte, so the fast path hands a
			// half-read head to net/http.
			head := fmt.Sprintf(starts[(w+i)%len(starts)], env.addr)
			trickle := []byte("X-Slow: ")
			if (w+i)%2 == 1 {
				trickle = []byte(head + "X-Slow: ")
			} else if _, err := c.Write([]byte(head)); err != nil {
				a.outcome("write failed at once")
				return
			}
			n := 0
			a.watch(ctx, c, began, func() error {
				var b []byte
				if n < len(trickle) {
					b = trickle[n : n+1]
				} else {
					b = []byte{'a' + byte(n%26)}
				}
				n++
				_, err := c.Write(b)
				return err
			})
		},
	}
}
