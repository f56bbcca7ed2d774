package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// chatLoad is the normal traffic: users, each from an address of their
// own, connected over websocket, reading everything, each sending
// 900-character messages at the chat's limit (2 a second) and typing
// notices. It is what the slow consumers fall behind on, and it is judged
// like a probe: a normal user must never be dropped, and every message
// must be answered (delivered, or refused by a rate limit) in time.
func chatLoad(env *env, users int) *attack {
	text := strings.Repeat("soak ", 180)
	var mu sync.Mutex
	var sent, acked, refused, unanswered int
	var ackMax time.Duration
	a := &attack{
		name:    "chat-load",
		what:    "normal users: websocket, read everything, 2 messages (900 chars) a second + typing",
		workers: users,
		pause:   time.Second,
	}
	a.iter = func(ctx context.Context, a *attack, w, i int) {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cl, err := dialSocketIO(cctx, env.base, visitor(netChat, w), fmt.Sprintf("user-%d", w))
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				a.outcome("connect failed: " + errClass(err))
			}
			return
		}
		defer cl.c.Close()
		defer a.conn()()
		defer closeOnCancel(ctx, cl.c)()
		a.outcome("connected")

		var wmu sync.Mutex // gorilla: one writer at a time
		write := func(s string) error {
			wmu.Lock()
			defer wmu.Unlock()
			_ = cl.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			return cl.c.WriteMessage(websocket.TextMessage, []byte(s))
		}
		var pmu sync.Mutex
		pending := map[int]time.Time{}
		readErr := make(chan error, 1)
		go func() {
			for {
				_, msg, err := cl.c.ReadMessage()
				if err != nil {
					readErr <- err
					return
				}
				switch {
				case bytes.Equal(msg, []byte("2")):
					if err := write("3"); err != nil {
						readErr <- err
						return
					}
				case bytes.HasPrefix(msg, []byte("43")):
					j := bytes.IndexByte(msg, '[')
					if j < 0 {
						continue
					}
					id, err := strconv.Atoi(string(msg[2:j]))
					if err != nil {
						continue
					}
					pmu.Lock()
					at, ok := pending[id]
					delete(pending, id)
					pmu.Unlock()
					if !ok {
						continue
					}
					mu.Lock()
					if bytes.Contains(msg[j:], []byte(`"error"`)) {
						refused++
					} else {
						acked++
					}
					ackMax = max(ackMax, time.Since(at))
					mu.Unlock()
				}
			}
		}()
		id := 0
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case err := <-readErr:
				if ctx.Err() == nil {
					a.outcome("dropped by the server: " + errClass(err))
				}
				return
			case <-tick.C:
			}
			// Unanswered for 10 s: lost.
			pmu.Lock()
			for k, at := range pending {
				if time.Since(at) > 10*time.Second {
					delete(pending, k)
					mu.Lock()
					unanswered++
					mu.Unlock()
				}
			}
			id++
			pending[id] = time.Now()
			pmu.Unlock()
			mu.Lock()
			sent++
			mu.Unlock()
			err := write(fmt.Sprintf(`42%d["message",{"text":"%s %d"}]`, id, text, id))
			if err == nil && id%6 == 0 {
				err = write(`42["typing",true]`)
			}
			if err != nil {
				if ctx.Err() == nil {
					a.outcome("write failed: " + errClass(err))
				}
				return
			}
		}
	}
	a.judge = func(a *attack) (bool, string) {
		mu.Lock()
		s := fmt.Sprintf("%d messages: %d delivered, %d refused by a limit, %d unanswered; slowest answer %s ms",
			sent, acked, refused, unanswered, ms(ackMax))
		mu.Unlock()
		a.mu.Lock()
		defer a.mu.Unlock()
		for k, n := range a.outcomes {
			if k != "connected" && n > 0 {
				return false, s + "; " + k
			}
		}
		if unanswered > 0 {
			return false, s
		}
		return true, s
	}
	return a
}
