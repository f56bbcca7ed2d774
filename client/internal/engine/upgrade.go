package engine

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

// errProbe is a probe answered with something else than "3probe".
var errProbe = errors.New("engine.io: probe not answered with 3probe")

// upgradeTransport is a transport a polling session can move onto.
type upgradeTransport interface {
	transport
	// probe sends "2probe" and expects "3probe", within ctx.
	probe(ctx context.Context) error
	// startReading starts the transport's reader; the caller has added it
	// to the session's WaitGroup.
	startReading()
}

// upgradeCandidates are the transports to try an upgrade to, in the
// order of Options.Transports: those the server offers in its upgrades.
func (c *Conn) upgradeCandidates() []string {
	if c.opts.DisableUpgrade {
		return nil
	}
	var names []string
	for _, name := range c.opts.Transports {
		if name != Polling && slices.Contains(c.upgrades, name) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// upgrade tries the candidates one after the other until one takes the
// session. The reference client probes them all at once and keeps the
// first that answers; one at a time, in the user's order of preference,
// is simpler and opens no connection that is thrown away.
func (c *Conn) upgrade() {
	defer c.wg.Done()
	for _, name := range c.upgradeCandidates() {
		if c.upgradeTo(name) {
			return
		}
		select {
		case <-c.done:
			return
		default:
		}
	}
}

// upgradeTo moves a polling session onto transport name, as the reference
// client does: open it with the sid, send "2probe", expect "3probe", pause
// polling (let the pending GET and POST finish, start no new ones), then
// switch: "5" (upgrade) goes first on the new transport and the queued
// packets follow. Any failure leaves the session on polling; it reports
// whether the session moved.
func (c *Conn) upgradeTo(name string) bool {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.UpgradeTimeout)
	defer cancel()
	var t upgradeTransport
	var err error
	switch name {
	case WebSocket:
		t, err = c.dialWebSocket(ctx)
	case WebTransport:
		t, err = c.dialWebTransport(ctx)
	default:
		return false
	}
	if err != nil {
		return false
	}
	switched := false
	defer func() {
		if !switched {
			t.close()
		}
	}()
	if err := t.probe(ctx); err != nil {
		return false
	}

	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return false
	}
	c.upgrading = true
	c.probe = t
	c.mu.Unlock()

	timer := time.NewTimer(c.opts.UpgradeTimeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if c.state != stateOpen || !c.upgrading {
			// Closing, or aborted by Shutdown.
			if c.probe == t {
				c.probe = nil
			}
			if c.upgrading {
				c.abortUpgradeLocked()
			}
			c.mu.Unlock()
			return false
		}
		if !c.polling && !c.writing {
			old := c.tr
			c.tr = t
			c.upgrading = false
			c.probe = nil
			c.queue = append([]outPacket{{Packet: packet.Packet{Type: packet.Upgrade}}}, c.queue...)
			c.queuedBytes++
			c.wg.Add(1)
			t.startReading()
			c.signal(c.wake)
			c.mu.Unlock()
			switched = true
			old.close()
			if c.h.OnUpgrade != nil {
				c.h.OnUpgrade(name)
			}
			return true
		}
		c.mu.Unlock()
		select {
		case <-c.idle:
		case <-timer.C:
			c.mu.Lock()
			if c.probe == t {
				c.probe = nil
			}
			if c.upgrading {
				c.abortUpgradeLocked()
			}
			c.mu.Unlock()
			return false
		case <-c.done:
			return false
		}
	}
}

// probe sends "2probe" on the WebSocket and expects "3probe", within ctx.
func (t *wsTransport) probe(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = t.ws.SetWriteDeadline(dl)
	}
	if err := t.writePacket(outPacket{Packet: packet.Packet{Type: packet.Ping, Data: []byte("probe")}}); err != nil {
		return err
	}
	p, err := t.readWithin(ctx)
	if err != nil {
		return err
	}
	if p.Type != packet.Pong || string(p.Data) != "probe" {
		return errProbe
	}
	return nil
}

// startReading runs the WebSocket's read loop after an upgrade.
func (t *wsTransport) startReading() { go t.c.readLoop(t) }

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
