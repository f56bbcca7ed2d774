package sockio

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/parser"
)

// maxPending bounds the events waiting for a client's handlers; past it the
// connection's reads pause (engineio.Session.PauseReading), which pushes
// back on the peer, until half of them are done.
const maxPending = 256

// Client is one Engine.IO connection, multiplexing the client's sockets
// (one per namespace), as in the reference.
//
// Its three mutexes guard separate things and never nest: rmu the
// decoder, mu the sockets and the connect timer, wmu the work queue; none
// is held while another, or a Socket's mu, is taken.
type Client struct {
	server *Server
	conn   *engineio.Session

	rmu     sync.Mutex           // serialises decoding
	decoder parser.PacketDecoder // the server's codec's
	v3      bool                 // a Socket.IO protocol 4 client, over Engine.IO 3 (protocol_v4.go)

	mu           sync.Mutex
	sockets      []*Socket // one per namespace; few, so a slice beats a map in size
	connectTimer *time.Timer
	closed       bool

	// The work queue: events and callbacks of this client run one at a
	// time, in order, on a goroutine that exists only while there is work.
	wmu     sync.Mutex
	work    []task // work[head:] is pending; the array is reused
	head    int
	running bool
	stopped bool
	paused  bool // the connection's reads are paused (maxPending)
}

type task struct {
	p  *parser.Packet
	fn func()
}

func newClient(srv *Server, conn *engineio.Session) *Client {
	c := &Client{server: srv, conn: conn, v3: conn.Protocol() == 3}
	c.decoder = srv.codec().NewDecoder(srv.opts.MaxAttachments)
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, func() {
		c.mu.Lock()
		none := len(c.sockets) == 0
		c.mu.Unlock()
		if none {
			conn.CloseWithReason(engineio.ReasonForcedClose)
		}
	})
	return c
}

// Conn is the underlying Engine.IO session.
func (c *Client) Conn() *engineio.Session { return c.conn }

// engineHandler is what the engine calls: a type of its own keeps the
// engine's callbacks out of Client's API.
type engineHandler Client

// OnMessage implements engineio.Handler.
func (h *engineHandler) OnMessage(data []byte, binary bool) { (*Client)(h).onMessage(data, binary) }

// OnClose implements engineio.Handler.
func (h *engineHandler) OnClose(reason string, _ error) { (*Client)(h).onClose(reason) }

// NonBlocking implements engineio.NonBlockingHandler: onMessage queues the
// client's events and pauses the connection's reads when too many wait, so
// the engine may read it from a shared poller.
func (h *engineHandler) NonBlocking() {}

// onMessage takes a message of the connection.
func (c *Client) onMessage(data []byte, binary bool) {
	c.rmu.Lock()
	p, err := c.decoder.Add(data, binary)
	c.rmu.Unlock()
	if err != nil {
		c.closeParseError(err)
		return
	}
	if p == nil {
		return
	}
	if c.v3 {
		fromV4(p)
	}
	switch p.Type {
	case parser.Ack, parser.BinaryAck:
		// Acks skip the queue: a handler blocked in EmitWithAck waits for one.
		s := c.socket(p.Namespace)
		if s == nil {
			c.closeInvalidState()
			return
		}
		s.onAck(p)
	case parser.ConnectError:
		c.closeInvalidState()
	default:
		c.enqueue(task{p: p}, true)
	}
}

// onClose runs when the connection closed.
func (c *Client) onClose(reason string) {
	c.mu.Lock()
	c.closed = true
	if c.connectTimer != nil {
		c.connectTimer.Stop()
	}
	c.mu.Unlock()
	// A handler blocked in EmitWithAck may be what holds the queue: release
	// it now; the rest of the disconnect runs in order, on the worker.
	for _, s := range c.allSockets() {
		s.failInlineAcks()
	}
	c.enqueue(task{fn: func() {
		for _, s := range c.allSockets() {
			s.finishClose(reason)
		}
	}}, false)
	c.wmu.Lock()
	c.stopped = true
	c.wmu.Unlock()
}

func (c *Client) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.socketIndexLocked(nsp); i >= 0 {
		return c.sockets[i]
	}
	return nil
}

func (c *Client) socketIndexLocked(nsp string) int {
	for i, s := range c.sockets {
		if s.nsp.name == nsp {
			return i
		}
	}
	return -1
}

func (c *Client) allSockets() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sockets)
}

func (c *Client) remove(s *Socket) {
	c.mu.Lock()
	if i := c.socketIndexLocked(s.nsp.name); i >= 0 && c.sockets[i] == s {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	}
	c.mu.Unlock()
}

// enqueue adds a task; a bounded one (a client event) that fills the queue
// pauses the connection's reads.
func (c *Client) enqueue(t task, bounded bool) {
	c.wmu.Lock()
	c.work = append(c.work, t)
	if bounded && !c.paused && !c.stopped && len(c.work)-c.head >= maxPending {
		// Under wmu, so that run's resume cannot overtake it.
		c.paused = true
		c.conn.PauseReading()
	}
	if !c.running {
		c.running = true
		c.server.workers.run(c)
	}
	c.wmu.Unlock()
}

func (c *Client) run() {
	for {
		c.wmu.Lock()
		if c.head == len(c.work) {
			c.running = false
			c.work, c.head = c.work[:0], 0
			c.wmu.Unlock()
			return
		}
		t := c.work[c.head]
		c.work[c.head] = task{}
		c.head++
		if c.paused && len(c.work)-c.head <= maxPending/2 {
			c.paused = false
			c.conn.ResumeReading()
		}
		c.wmu.Unlock()
		if t.fn != nil {
			t.fn()
		} else {
			c.handle(t.p)
		}
	}
}

// handle processes one packet on the worker, in arrival order.
func (c *Client) handle(p *parser.Packet) {
	if p.Type == parser.Connect {
		c.connect(p)
		return
	}
	s := c.socket(p.Namespace)
	if s == nil {
		// The reference closes a connection that talks to a namespace it
		// did not join.
		c.closeInvalidState()
		return
	}
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Disconnect:
		if s.beginClose() {
			s.finishClose(ReasonClientNamespaceDisconnect)
		}
	}
}

func (c *Client) connect(p *parser.Packet) {
	name := p.Namespace
	if c.socket(name) != nil {
		c.closeInvalidState()
		return
	}
	var auth map[string]any
	if len(p.Data) > 0 {
		if err := json.Unmarshal(p.Data, &auth); err != nil {
			c.closeParseError(fmt.Errorf("bad CONNECT payload: %w", err))
			return
		}
	}
	if auth == nil {
		auth = map[string]any{}
	}
	nsp := c.server.namespaceFor(name, auth)
	if nsp == nil {
		c.connectError(name, &ConnectError{Message: "Invalid namespace"})
		return
	}
	// nsp is held for s: a refused s gives it back here, a connected one
	// when it leaves (finishClose).
	s := newSocket(nsp, c, auth)
	if c.v3 {
		s.id = socketIDV4(name, c.conn.ID())
	}
	s.early = &earlyQueue{} // until the CONNECT answer is out
	var missed []*parser.Packet
	if ro := c.server.opts.ConnectionStateRecovery; ro != nil {
		missed = c.recover(s, auth)
		if !s.recovered {
			s.pid = newSocketID()
		}
	}
	if !s.recovered || !c.server.opts.ConnectionStateRecovery.SkipMiddlewares {
		if err := nsp.connect(s); err != nil {
			s.mu.Lock()
			s.endContextLocked("refused: " + err.Error())
			s.mu.Unlock()
			nsp.remove(s)            // reachable since its recovery
			nsp.adapter.DelAll(s.id) // rooms a recovery may have restored
			if c.v3 {
				c.connectErrorV4(name, err)
			} else {
				c.connectError(name, err)
			}
			c.server.releaseNamespace(nsp, false)
			return
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		s.mu.Lock()
		s.endContextLocked(engineio.ReasonTransportClose)
		s.mu.Unlock()
		nsp.remove(s)
		nsp.adapter.DelAll(s.id)
		c.server.releaseNamespace(nsp, false)
		return
	}
	if i := c.socketIndexLocked(name); i >= 0 {
		c.sockets[i] = s
	} else {
		c.sockets = append(c.sockets, s)
	}
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil // a connection lives long: drop the timer
	}
	c.mu.Unlock()

	// The socket is in its rooms before the CONNECT answer leaves, so a
	// broadcast sent after the client saw it reaches it, and what reaches
	// it meanwhile waits in s.early, so nothing overtakes the answer.
	// Missed events go first: the client holds them until the CONNECT.
	nsp.add(s)
	s.Join(s.id)
	if h := connectingHook.Load(); h != nil {
		(*h)(s)
	}
	for _, p := range missed {
		// Beyond the send queue's bound: the recovery log bounds them.
		_ = c.conn.Send(engineio.SendOptions{Replay: true}, c.server.encode(p)...)
	}
	answer := map[string]string{"sid": s.id}
	if s.pid != "" {
		answer["pid"] = s.pid
	}
	data, _ := json.Marshal(answer)
	if c.v3 {
		data = nil // "40": protocol 4 has no payload there
	}
	_ = c.write(c.server.encode(&parser.Packet{Type: parser.Connect, Namespace: name, Data: data}), &BroadcastFlags{})
	s.becomeConnected()
	s.sessionChanged() // its Join above came before it was connected
	for _, fn := range nsp.connectionHandlers() {
		fn(s)
	}
}

// connectingHook, when set (tests only), runs when a socket is reachable
// and its CONNECT answer not yet sent.
var connectingHook atomic.Pointer[func(*Socket)]

// recover restores s from the session its auth names (pid and offset),
// if the adapter still has it, and returns the events it missed.
//
// The socket is back in its rooms before the missed events are read, so
// that a broadcast sent meanwhile reaches it, from the log or live: what
// comes live while it connects waits in s.early, and what the replay
// already holds is dropped by offset (Socket.replayed).
func (c *Client) recover(s *Socket, auth map[string]any) []*parser.Packet {
	pid, _ := auth["pid"].(string)
	offset, _ := auth["offset"].(string)
	if pid == "" || offset == "" {
		return nil
	}
	nsp := s.nsp
	nsp.stats.recoveryAttempts.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), c.server.opts.ConnectionStateRecovery.RestoreTimeout)
	defer cancel()
	sess, err := nsp.adapter.TakeSession(ctx, pid)
	if err != nil || sess == nil {
		nsp.stats.recoveryMissed.Add(1)
		return nil
	}
	id := s.id
	s.id = sess.SID
	nsp.reach(s)
	s.Join(sess.Rooms...)
	missed, through, ok, err := nsp.adapter.ReadMissed(ctx, sess.Rooms, offset)
	if err != nil || !ok {
		// A new socket after all: out of the old one's rooms, and what
		// reached it as the old one is not for it.
		nsp.remove(s)
		nsp.adapter.DelAll(s.id)
		s.mu.Lock()
		s.id, s.early = id, &earlyQueue{}
		s.mu.Unlock()
		nsp.stats.recoveryMissed.Add(1)
		return nil
	}
	nsp.stats.recovered.Add(1)
	a := nsp.adapter
	s.mu.Lock()
	s.pid, s.data, s.recovered = sess.PID, sess.Data, true
	s.replayed = s.early.replayedFrom(func(off string) bool { return a.OffsetAfter(off, through) })
	s.mu.Unlock()
	return missed
}

func (c *Client) connectError(nsp string, err error) {
	ce, ok := err.(*ConnectError)
	if !ok {
		ce = &ConnectError{Message: err.Error()}
	}
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{ce.Message, ce.Data}
	data, merr := json.Marshal(body)
	if merr != nil {
		data, _ = json.Marshal(map[string]string{"message": ce.Message})
	}
	_ = c.write(c.server.encode(&parser.Packet{Type: parser.ConnectError, Namespace: nsp, Data: data}), &BroadcastFlags{})
}

// write hands encoded packets to the connection.
func (c *Client) write(pkts []packet.Packet, flags *BroadcastFlags) error {
	if len(pkts) == 0 {
		return nil // the codec could not write it (logged)
	}
	opts := engineio.SendOptions{NoCompress: flags.NoCompress}
	if flags.Volatile {
		c.conn.SendVolatile(opts, pkts...) // dropped when busy, as volatile allows
		return nil
	}
	return c.conn.Send(opts, pkts...)
}

// disconnectAll disconnects every socket of the client, then closes the
// connection once the DISCONNECT packets are out.
func (c *Client) disconnectAll() {
	for _, s := range c.allSockets() {
		if s.beginClose() {
			_ = c.write(c.server.encode(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}), &BroadcastFlags{})
			c.enqueue(task{fn: func() { s.finishClose(ReasonServerNamespaceDisconnect) }}, false)
		}
	}
	c.conn.Close()
}

// closeInvalidState closes a connection whose packets make no sense in its
// state (an event for a namespace it did not join, a second CONNECT...),
// with the reference's reason.
func (c *Client) closeInvalidState() {
	c.conn.CloseWithReason(ReasonForcedServerClose)
}

// closeParseError closes a connection that sent a packet that does not decode.
func (c *Client) closeParseError(error) {
	c.conn.CloseWithReason(engineio.ReasonParseError)
}
