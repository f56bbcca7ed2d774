package ws

import (
	"fmt"
	"time"
)

// The heartbeat is one runtime timer per connection, no goroutine: it
// fires to send a ping, then again at the pong deadline. Anything received
// in between (the pong, a ping, a data frame) proves the peer alive, since
// a peer busy sending one large frame cannot answer before it ends.

func (c *Conn) startHeartbeat() {
	c.wc.OnPong(c.touch)
	c.wc.OnPing(c.touch)
	if c.s.pingInterval <= 0 {
		return
	}
	c.mu.Lock()
	if c.ReadyState() == Open {
		c.hb = time.AfterFunc(c.s.pingInterval, c.heartbeat)
	}
	c.mu.Unlock()
}

func (c *Conn) heartbeat() {
	c.mu.Lock()
	if c.hb == nil || c.ReadyState() != Open {
		c.mu.Unlock()
		return
	}
	if !c.awaiting {
		c.awaiting = true
		c.alive.Store(false)
		c.hb.Reset(c.s.pongWait)
		c.mu.Unlock()
		// A failed ping needs no action: the writer or reader will see it.
		_ = c.wc.Ping(nil, time.Now().Add(c.s.writeTimeout))
		return
	}
	switch {
	case c.alive.Load():
		c.awaiting = false
		c.hb.Reset(c.s.pingInterval - c.s.pongWait)
		c.mu.Unlock()
	case c.inHandler.Load():
		// Our handler holds the reader, so a pong may be waiting unread.
		c.hb.Reset(c.s.pongWait)
		c.mu.Unlock()
	default:
		c.mu.Unlock()
		c.pongTimeout()
	}
}

// pongTimeout closes a peer that stopped answering. It is most likely gone,
// so the close frame is best effort and the TCP connection closes at once.
func (c *Conn) pongTimeout() {
	err := fmt.Errorf("%w: nothing received within %v of a ping", ErrPongTimeout, c.s.pongWait)
	c.mu.Lock()
	if c.ReadyState() != Open {
		c.mu.Unlock()
		return
	}
	c.state.Store(int32(Closing))
	c.setEndLocked(CloseInternalError, "pong timeout", err)
	c.queue, c.queuedB = nil, 0
	c.mu.Unlock()
	_ = c.wc.WriteClose(CloseInternalError, "pong timeout", time.Now().Add(time.Second))
	_ = c.wc.CloseNow()
}
