package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// slowConsumers join the chat over websocket and never read, with a 4 KiB
// receive buffer, while the chat load talks in their room, and ask for
// more (joins, messages). They answer the heartbeat blindly (a pong every
// 2 s, which the server accepts while it waits for one), so only the
// server's send-side bounds can drop them: the session's queue bound
// ("slow consumer") or the write timeout on a write that cannot proceed.
// Without those, each would grow in the server without bound.
func slowConsumers(env *env, workers int) *attack {
	return &attack{
		name:    "slow-consumer",
		what:    "websocket chat members that never read (4 KiB receive buffer), pong blindly, join and chat every 2 s",
		workers: workers,
		pause:   500 * time.Millisecond,
		bound:   60 * time.Second,
		why:     "on loopback a socket's send buffer grows to 4 MB (tcp_wmem) and fills in ~30 s at what these clients ask for; then a write blocks and WriteTimeout (10 s) ends it: ~40 s measured, plus 20 s slack",
		iter: func(ctx context.Context, a *attack, w, i int) {
			c, err := dialRaw(ctx, env.addr, visitor(netSlow, w), 4096)
			if err != nil {
				a.outcome("dial failed")
				return
			}
			defer c.Close()
			defer a.conn()()
			defer closeOnCancel(ctx, c)()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write([]byte(wsUpgradeHead(env.addr, eioQuery("websocket", "")))); err != nil {
				a.outcome("write failed at once")
				return
			}
			resp, err := http.ReadResponse(c.br, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				if ctx.Err() == nil {
					a.outcome("upgrade refused")
				}
				return
			}
			// The open packet is not read: the client joins blind.
			if _, err := c.Write(wsFrame([]byte(connectPacket("slow")))); err != nil {
				a.outcome("CONNECT write failed")
				return
			}
			_ = c.SetDeadline(time.Time{})
			began := time.Now()
			// Every 2 s: a pong, a join of the room it is in (answered
			// with a welcome carrying the room's history, up to 100
			// messages) and two messages (echoed to the whole room, and
			// acknowledged): the client asks for much, within the chat's
			// rate limits, and reads nothing.
			text := strings.Repeat("slow ", 180)
			id := 0
			a.watchWrites(ctx, c, began, 2*time.Second, func() error {
				var b []byte
				b = append(b, wsFrame([]byte("3"))...)
				b = append(b, wsFrame(fmt.Appendf(nil, `42%d["join","lobby"]`, id))...)
				b = append(b, wsFrame(fmt.Appendf(nil, `42%d["message",{"text":"%s"}]`, id+1, text))...)
				b = append(b, wsFrame(fmt.Appendf(nil, `42%d["message",{"text":"%s"}]`, id+2, text))...)
				id += 3
				_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				_, err := c.Write(b)
				return err
			})
		},
	}
}
