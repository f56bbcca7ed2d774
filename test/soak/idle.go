package main

import (
	"context"
	"time"
)

// idleKeepAlive makes one request on a keep-alive connection and then
// keeps it idle. Each one holds a file descriptor in the server (and with
// net/http a goroutine and buffers): the server must close it after its
// idle timeout, or enough of them refuse every new client.
func idleKeepAlive(env *env, workers int) *attack {
	return &attack{
		name:    "idle-keepalive",
		what:    "one GET / per connection, then idle",
		workers: workers,
		pause:   100 * time.Millisecond,
		bound:   15 * time.Second,
		why:     "Node.js closes idle keep-alive connections after 5 s; sockio's idle timeout is of that order, plus slack for a loaded machine",
		iter: func(ctx context.Context, a *attack, w, i int) {
			c, err := dialRaw(ctx, env.addr, nil, 0)
			if err != nil {
				a.outcome("dial failed")
				return
			}
			defer c.Close()
			defer a.conn()()
			defer closeOnCancel(ctx, c)()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: " + env.addr + "\r\n\r\n")); err != nil {
				a.outcome("write failed")
				return
			}
			code, _, err := readResponse(c.br)
			if err != nil {
				a.outcome("no response")
				return
			}
			if code != 200 {
				a.outcome("status not 200")
			}
			_ = c.SetDeadline(time.Time{})
			// The clock starts when the connection goes idle.
			a.watch(ctx, c, time.Now(), nil)
		},
	}
}
