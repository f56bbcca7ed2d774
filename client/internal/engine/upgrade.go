package engine

import (
	"context"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

// upgrade moves a polling session onto a WebSocket, as the reference
// client does: open a WebSocket with the sid, send "2probe", expect
// "3probe", pause polling (let the pending GET and POST finish, start no
// new ones), then switch: "5" (upgrade) goes first on the WebSocket and
// the queued packets follow. Any failure leaves the session on polling.
func (c *Conn) upgrade() {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.UpgradeTimeout)
	defer cancel()
	t, err := c.dialWebSocket(ctx)
	if err != nil {
		return
	}
	switched := false
	defer func() {
		if !switched {
			t.close()
		}
	}()

	if dl, ok := ctx.Deadline(); ok {
		_ = t.ws.SetWriteDeadline(dl)
	}
	if err := t.writePacket(outPacket{Packet: packet.Packet{Type: packet.Ping, Data: []byte("probe")}}); err != nil {
		return
	}
	p, err := t.readWithin(ctx)
	if err != nil || p.Type != packet.Pong || string(p.Data) != "probe" {
		return
	}

	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.upgrading = true
	c.probeWS = t
	c.mu.Unlock()

	timer := time.NewTimer(c.opts.UpgradeTimeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if c.state != stateOpen || !c.upgrading {
			// Closing, or aborted by Shutdown.
			if c.probeWS == t {
				c.probeWS = nil
			}
			if c.upgrading {
				c.abortUpgradeLocked()
			}
			c.mu.Unlock()
			return
		}
		if !c.polling && !c.writing {
			old := c.tr
			c.tr = t
			c.upgrading = false
			c.probeWS = nil
			c.queue = append([]outPacket{{Packet: packet.Packet{Type: packet.Upgrade}}}, c.queue...)
			c.queuedBytes++
			c.wg.Add(1)
			go c.readLoop(t)
			c.signal(c.wake)
			c.mu.Unlock()
			switched = true
			old.close()
			if c.h.OnUpgrade != nil {
				c.h.OnUpgrade(WebSocket)
			}
			return
		}
		c.mu.Unlock()
		select {
		case <-c.idle:
		case <-timer.C:
			c.mu.Lock()
			if c.probeWS == t {
				c.probeWS = nil
			}
			if c.upgrading {
				c.abortUpgradeLocked()
			}
			c.mu.Unlock()
			return
		case <-c.done:
			return
		}
	}
}

// abortUpgradeLocked resumes polling after a failed or cancelled pause.
func (c *Conn) abortUpgradeLocked() {
	c.upgrading = false
	if tr, ok := c.tr.(*pollingTransport); ok && !c.pollRunning && c.state == stateOpen {
		c.pollRunning = true
		c.wg.Add(1)
		go c.pollLoop(tr, nil)
	}
	c.signal(c.wake)
	c.signal(c.idle)
}
