package chat

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

type plainClient struct {
	t    *testing.T
	conn *websocket.Conn
	wmu  sync.Mutex
	msgs chan map[string]any
	done chan struct{}
}

func dialPlain(t *testing.T, url, name string) *plainClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &plainClient{t: t, conn: conn, msgs: make(chan map[string]any, 10000), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			var m map[string]any
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		<-c.done
	})
	c.send(map[string]any{"type": "join", "name": name})
	c.next("welcome")
	return c
}

func (c *plainClient) send(v any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.WriteJSON(v)
}

// next returns the next message of one of types, skipping others.
func (c *plainClient) next(types ...string) map[string]any {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case m := <-c.msgs:
			for _, typ := range types {
				if m["type"] == typ {
					return m
				}
			}
		case <-deadline:
			c.t.Fatalf("no %s message", strings.Join(types, " or "))
			return nil
		}
	}
}

// The plain-WebSocket chat has the same limits: per connection and per
// address, and the typing rule.
func TestPlainLimits(t *testing.T) {
	checkLeaks(t)
	p := NewPlain(Options{})
	hs := httptest.NewServer(p)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
		hs.Close()
	})
	listener := dialPlain(t, hs.URL, "listener")
	var conns []*plainClient
	for i := range 20 {
		conns = append(conns, dialPlain(t, hs.URL, fmt.Sprint("c", i)))
	}
	start := time.Now()
	passed := 0
	for round := range socketRates[actMessage].burst {
		for i, c := range conns {
			ref := fmt.Sprint(i, "-", round)
			c.send(map[string]any{"type": "message", "text": "hi", "ref": ref})
			for {
				m := <-c.msgs
				if m["ref"] != ref {
					continue
				}
				if m["type"] == "message" {
					passed++
				}
				break
			}
		}
	}
	// The listener is at the same address: its budget is spent too.
	if limit := allowed(addressRates[actMessage], time.Since(start)); passed > limit {
		t.Errorf("%d of 200 messages passed from one address; the address allows %d", passed, limit)
	}

	// Typing alternated by one connection.
	one := conns[0]
	drain(listener)
	start = time.Now()
	for range 50 {
		one.send(map[string]any{"type": "typing", "typing": true})
		one.send(map[string]any{"type": "typing", "typing": false})
	}
	one.send(map[string]any{"type": "ping"})
	one.next("pong") // the typing messages were handled before
	elapsed := time.Since(start)
	typing := 0
	for _, m := range drain(listener) {
		if m["type"] == "typing" {
			typing++
		}
	}
	if limit := 2 * allowed(socketRates[actTyping], elapsed); typing > limit {
		t.Errorf("%d typing messages passed on for 100 sent; at most %d allowed", typing, limit)
	}

	// Renames are limited too (a second join).
	refusedJoins := 0
	for i := range 2 * socketRates[actJoin].burst {
		one.send(map[string]any{"type": "join", "name": fmt.Sprint("renamed", i)})
		if one.next("welcome", "error")["type"] == "error" {
			refusedJoins++
		}
	}
	if refusedJoins == 0 {
		t.Error("no rename refused")
	}
}

// drain returns what c received so far, once the line is quiet for a
// moment (a sync point: the sender's pong came first).
func drain(c *plainClient) []map[string]any {
	var out []map[string]any
	for {
		select {
		case m := <-c.msgs:
			out = append(out, m)
		case <-time.After(200 * time.Millisecond):
			return out
		}
	}
}
