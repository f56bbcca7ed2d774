package engine

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

// Handler receives a connection's events. The callbacks are called from
// the connection's goroutines, one at a time for OnMessage (in arrival
// order); they must not call Close, which waits for those goroutines.
type Handler struct {
	// OnMessage gets each message packet. data stays valid after the call.
	// ctx ends when the connection closes: a callback that waits (to push
	// back on the server) must give up then.
	OnMessage func(ctx context.Context, data []byte, binary bool)
	// OnPing is called after each ping from the server has been answered.
	OnPing func()
	// OnUpgrade is called once the connection has moved to transport.
	OnUpgrade func(transport string)
	// OnClose is called once, when the connection ends, with the
	// reference's reason and the cause, if any.
	OnClose func(reason string, err error)
}

type state uint8

const (
	stateOpen state = iota
	stateClosing
	stateClosed
)

// transport is the active transport: writes go through it; its reader
// (poll loop or WebSocket reader) runs on its own goroutine.
type transport interface {
	name() string
	write(ctx context.Context, pkts []outPacket) error
	close()
}

// streamTransport is a transport over one connection of its own
// (WebSocket, WebTransport), where the server's open packet comes first.
type streamTransport interface {
	transport
	readWithin(ctx context.Context) (packet.Packet, error)
}

// openStream connects with dial and takes the open packet.
func (c *Conn) openStream(ctx context.Context, name string, dial func() (streamTransport, error)) error {
	t, err := dial()
	if err != nil {
		return err
	}
	p, err := t.readWithin(ctx)
	if err == nil {
		err = c.onOpenPacket(p)
	}
	if err != nil {
		t.close()
		return fmt.Errorf("failed to open %s transport: %w", name, err)
	}
	c.tr = t
	return nil
}

// readWithin reads one packet with read, giving up when ctx ends: the read
// deadline is then set to now.
func readWithin(ctx context.Context, setReadDeadline func(time.Time) error, read func() (packet.Packet, error)) (packet.Packet, error) {
	stop := context.AfterFunc(ctx, func() { _ = setReadDeadline(time.Now()) })
	p, err := read()
	if !stop() && err == nil {
		// ctx ended as the packet came: the deadline may be set now.
		err = ctx.Err()
	}
	if err != nil {
		return p, err
	}
	_ = setReadDeadline(time.Time{})
	return p, nil
}

// outPacket is a queued packet with its compression flag.
type outPacket struct {
	packet.Packet
	compress bool
}

// Conn is one Engine.IO session.
type Conn struct {
	opts Options
	h    Handler

	id           string
	pingInterval time.Duration
	pingTimeout  time.Duration
	maxPayload   int
	upgrades     []string

	// ctx is the session's lifetime: it cancels requests and waits.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}

	mu          sync.Mutex
	state       state
	started     bool
	tr          transport
	first       []packet.Packet // packets that came with the handshake
	queue       []outPacket
	queuedBytes int
	writing     bool // a write is in flight
	polling     bool // a poll GET is in flight (or its packets are being handled)
	pollRunning bool // the poll loop goroutine exists
	upgrading   bool // the probe succeeded: writes and polls pause
	probe       upgradeTransport
	wake        chan struct{} // wakes the writer
	idle        chan struct{} // a write or poll ended (for the upgrade pause)
	pingTimer   *time.Timer
	closeTimer  *time.Timer
}

// Dial opens a session: the handshake on the first transport of
// opts.Transports. ctx bounds the handshake only; the session lives until
// it closes. Nothing is read or written after the handshake until Start.
func Dial(ctx context.Context, opts Options, h Handler) (*Conn, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Conn{
		opts: opts,
		h:    h,
		done: make(chan struct{}),
		wake: make(chan struct{}, 1),
		idle: make(chan struct{}, 1),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	switch opts.Transports[0] {
	case Polling:
		err = c.openPolling(ctx)
	case WebTransport:
		err = c.openStream(ctx, WebTransport, func() (streamTransport, error) { return c.dialWebTransport(ctx) })
	default:
		err = c.openStream(ctx, WebSocket, func() (streamTransport, error) { return c.dialWebSocket(ctx) })
	}
	if err != nil {
		c.cancel()
		return nil, err
	}
	return c, nil
}

// handshake is the data of the open packet.
type handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func (c *Conn) onOpenPacket(p packet.Packet) error {
	if p.Type != packet.Open {
		return fmt.Errorf("failed to open: first packet is %s, not open", p.Type)
	}
	var hs handshake
	if err := json.Unmarshal(p.Data, &hs); err != nil {
		return fmt.Errorf("failed to decode the open packet: %w", err)
	}
	if hs.SID == "" || hs.PingInterval <= 0 || hs.PingTimeout <= 0 {
		return fmt.Errorf("failed to open: bad handshake %s", p.Data)
	}
	c.id = hs.SID
	c.upgrades = hs.Upgrades
	c.pingInterval = time.Duration(hs.PingInterval) * time.Millisecond
	c.pingTimeout = time.Duration(hs.PingTimeout) * time.Millisecond
	c.maxPayload = hs.MaxPayload
	return nil
}

// ID is the session id (sid).
func (c *Conn) ID() string { return c.id }

// Transport is the name of the active transport.
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tr.name()
}

// Done is closed when the session has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Start runs the session: reading, writing, the heartbeat and, when the
// server offers it, the upgrade to WebSocket or WebTransport.
func (c *Conn) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.state == stateClosed {
		return
	}
	c.started = true
	// The server pings every pingInterval; silence past the interval plus
	// the timeout means the connection is lost.
	c.pingTimer = time.AfterFunc(c.pingInterval+c.pingTimeout, func() { c.fail(ReasonPingTimeout, nil) })
	c.wg.Add(2)
	go c.writeLoop()
	switch tr := c.tr.(type) {
	case *pollingTransport:
		c.pollRunning = true
		go c.pollLoop(tr, c.first)
		c.first = nil
		if len(c.upgradeCandidates()) > 0 {
			c.wg.Add(1)
			go c.upgrade()
		}
	case *wsTransport:
		go c.readLoop(tr)
	case *wtTransport:
		go c.readLoopWT(tr)
	}
	if len(c.queue) > 0 {
		c.signal(c.wake)
	}
}

// Send queues packets, in order and together (the attachments of a
// Socket.IO packet stay with it). compress allows WebSocket compression
// when it was negotiated. Data slices must not change afterwards.
func (c *Conn) Send(compress bool, pkts ...packet.Packet) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return ErrClosed
	}
	n := 0
	for _, p := range pkts {
		n += len(p.Data) + 1
	}
	if len(c.queue)+len(pkts) > c.opts.MaxBufferedPackets || c.queuedBytes+n > c.opts.MaxBufferedBytes {
		return fmt.Errorf("%w (%d packets, %d bytes queued)", ErrQueueFull, len(c.queue), c.queuedBytes)
	}
	c.enqueueLocked(compress, pkts...)
	return nil
}

func (c *Conn) enqueueLocked(compress bool, pkts ...packet.Packet) {
	for _, p := range pkts {
		c.queuedBytes += len(p.Data) + 1
		c.queue = append(c.queue, outPacket{p, compress})
	}
	if c.started {
		c.signal(c.wake)
	}
}

// Writable reports whether a packet sent now would leave at once: the
// session is open, nothing is queued or being written, and no upgrade is
// pausing the transport. Volatile packets are sent only then.
func (c *Conn) Writable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateOpen && c.started && !c.writing && !c.upgrading && len(c.queue) == 0
}

// Shutdown starts a graceful close and returns at once: queued packets are
// flushed (bounded by CloseTimeout), a polling session sends the close
// packet, then the session ends with reason "forced close". On a session
// not started yet it sends the close packet itself, so it may block up to
// CloseTimeout.
func (c *Conn) Shutdown() {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	if !c.started {
		// Opened but never used (its caller gave up meanwhile): tell the
		// server at once rather than leave it a session until its ping
		// timeout, as the reference closes a connection still opening.
		tr := c.tr
		c.mu.Unlock()
		if p, ok := tr.(*pollingTransport); ok {
			ctx, cancel := context.WithTimeout(c.ctx, c.opts.CloseTimeout)
			_ = p.write(ctx, []outPacket{{Packet: packet.Packet{Type: packet.Close}}})
			cancel()
		}
		c.fail(ReasonForcedClose, nil)
		return
	}
	defer c.mu.Unlock()
	c.state = stateClosing
	if c.upgrading {
		// The paused polling transport takes the writes again.
		c.abortUpgradeLocked()
	}
	if _, ok := c.tr.(*pollingTransport); ok {
		c.queue = append(c.queue, outPacket{Packet: packet.Packet{Type: packet.Close}})
	}
	c.closeTimer = time.AfterFunc(c.opts.CloseTimeout, func() { c.fail(ReasonForcedClose, nil) })
	c.signal(c.wake)
}

// Close shuts the session down gracefully and waits until every goroutine
// of the session has ended. It must not be called from a Handler callback.
func (c *Conn) Close() {
	c.Shutdown()
	<-c.done
	c.wg.Wait()
}

// Abort ends the session at once, without flushing, and returns without
// waiting; Handler callbacks may call it.
func (c *Conn) Abort() { c.fail(ReasonForcedClose, nil) }

// fail ends the session at once. It is idempotent and never waits.
func (c *Conn) fail(reason string, err error) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	for _, t := range []*time.Timer{c.pingTimer, c.closeTimer} {
		if t != nil {
			t.Stop()
		}
	}
	tr, probe := c.tr, c.probe
	c.probe = nil
	clear(c.queue)
	c.queue, c.queuedBytes = nil, 0
	close(c.done)
	c.signal(c.wake)
	c.mu.Unlock()

	c.cancel()
	tr.close()
	if probe != nil {
		probe.close()
	}
	if c.h.OnClose != nil {
		c.h.OnClose(reason, err)
	}
}

// signal does a non-blocking send on a one-slot channel.
func (c *Conn) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// handle processes packets from the active transport, in order. It
// reports false once the session has ended.
func (c *Conn) handle(pkts []packet.Packet) bool {
	for _, p := range pkts {
		if !c.onPacket(p) {
			return false
		}
	}
	return true
}

func (c *Conn) onPacket(p packet.Packet) bool {
	switch p.Type {
	case packet.Ping:
		c.mu.Lock()
		if c.state == stateClosed {
			c.mu.Unlock()
			return false
		}
		c.pingTimer.Reset(c.pingInterval + c.pingTimeout)
		// The pong bypasses the queue bound: it is tiny and must go.
		if c.state == stateOpen {
			c.enqueueLocked(false, packet.Packet{Type: packet.Pong})
		}
		c.mu.Unlock()
		if c.h.OnPing != nil {
			c.h.OnPing()
		}
	case packet.Message:
		if c.h.OnMessage != nil {
			c.h.OnMessage(c.ctx, p.Data, p.Binary)
		}
	case packet.Close:
		c.fail(ReasonTransportClose, nil)
		return false
	}
	// open, pong, upgrade and noop from the server carry nothing for us.
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state != stateClosed
}

// takeLocked takes the next batch of the queue for tr. A polling POST
// stays within the server's maxPayload, as the reference client does.
func (c *Conn) takeLocked(tr transport) []outPacket {
	n := len(c.queue)
	if _, ok := tr.(*pollingTransport); ok && c.maxPayload > 0 && n > 1 {
		size := 0
		for i, p := range c.queue {
			size += textLen(p.Packet)
			if i > 0 && size > c.maxPayload {
				n = i
				break
			}
			size++ // separator
		}
	}
	batch := slices.Clone(c.queue[:n])
	for _, p := range batch {
		c.queuedBytes -= len(p.Data) + 1
	}
	clear(c.queue[:n])
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return batch
}

// textLen is the length of p in a polling payload.
func textLen(p packet.Packet) int {
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}

// writeLoop drains the queue onto the active transport, one write at a
// time (the server refuses two concurrent POSTs).
func (c *Conn) writeLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		for {
			c.mu.Lock()
			if c.state == stateClosed {
				c.mu.Unlock()
				return
			}
			if c.upgrading || len(c.queue) == 0 {
				closing := c.state == stateClosing && !c.upgrading
				c.mu.Unlock()
				if closing {
					// Everything, the close packet included, is out.
					c.fail(ReasonForcedClose, nil)
					return
				}
				break
			}
			tr := c.tr
			batch := c.takeLocked(tr)
			c.writing = true
			c.mu.Unlock()

			err := tr.write(c.ctx, batch)

			c.mu.Lock()
			c.writing = false
			c.signal(c.idle)
			c.mu.Unlock()
			if err != nil {
				c.fail(ReasonTransportError, err)
				return
			}
		}
	}
}

// query returns the query of a request on transport.
func (c *Conn) query(transport string) url.Values {
	q := url.Values{}
	for k, v := range c.opts.Query {
		q[k] = slices.Clone(v)
	}
	q.Set("EIO", "4")
	q.Set("transport", transport)
	if c.id != "" {
		q.Set("sid", c.id)
	}
	if transport == Polling {
		q.Set("t", randomString()) // defeats caches, as the reference does
	}
	return q
}

func randomString() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
