package sockio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/internal/args"
	"github.com/sockio/sockio/parser"
)

// Errors given to acknowledgement callbacks.
var (
	// ErrTimeout: the acknowledgement did not come in time. Its text is the
	// reference's.
	ErrTimeout = errors.New("operation has timed out")
	// ErrDisconnected: the socket left before acknowledging.
	ErrDisconnected = errors.New("socket has been disconnected")
)

// Disconnect reasons, as the reference names them. Reasons coming from the
// connection (engineio.Reason...) are passed on as they are.
const (
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	ReasonServerShuttingDown        = "server shutting down"
	ReasonForcedServerClose         = "forced server close"
)

// Handshake holds what the client sent when it connected.
type Handshake struct {
	Headers http.Header
	Time    time.Time
	Address string
	XDomain bool
	Secure  bool
	URL     string
	Query   url.Values
	Auth    map[string]any

	ctx context.Context // the request's values (Socket.Context)
}

// socketState is where a socket is in its life; it only moves forward.
type socketState uint8

const (
	stateConnecting socketState = iota // middlewares, recovery; deliveries wait in early
	stateConnected
	stateClosing // disconnecting: no new events or acks; rooms still visible
	stateLeaving // out of its rooms: may not join any again
	stateGone    // disconnected, handlers run
)

// Socket is one client's connection to one Namespace.
type Socket struct {
	id        string
	pid       string // private session id, with connection-state recovery
	recovered bool
	nsp       *Namespace
	client    *Client
	hs        *Handshake

	mu              sync.Mutex
	state           socketState
	handlers        []eventHandlers // few per socket: a slice beats a map in size
	anyIn           []func(*Event)
	anyOut          []func(event string, args Args)
	middlewares     []func(*Event) error
	onError         []func(error)
	onDisconnecting []func(reason string)
	onDisconnect    []func(reason string)
	acks            map[uint64]*pendingAck
	data            any
	// early holds what is delivered to the socket while it connects: it
	// is in its rooms before its CONNECT answer leaves (so that nothing
	// sent after the client saw it is missed), and what reaches it then
	// goes out after the answer and the missed events (so that nothing
	// overtakes them). Nil once connected.
	early *earlyQueue
	// replayed, set for a recovered socket, reports whether a logged
	// broadcast (by its offset) is newer than its replay: older ones
	// already went out with the missed events. Live broadcasts come in
	// log order, so the first newer one ends the check (nil again).
	replayed func(offset string) bool

	// ctx is made on the first Context call (most sockets never ask: no
	// cost for them); ended tells Context that the socket is gone.
	ctx    context.Context
	cancel context.CancelCauseFunc
	ended  error

	// finished is closed when the disconnect sequence ended (session kept,
	// handlers run): Server.Close waits for it before closing adapters.
	finished chan struct{}
}

type pendingAck struct {
	fn     AckCallback
	timer  *time.Timer
	inline bool      // call fn where the ack arrives (it must not block)
	asked  time.Time // for Stats, with StatsOptions.Latency
}

func newSocket(nsp *Namespace, c *Client, auth map[string]any) *Socket {
	ehs := c.conn.Handshake()
	hs := &Handshake{
		Headers: ehs.Header,
		Time:    ehs.Time,
		Address: hostOnly(ehs.RemoteAddr),
		XDomain: ehs.Header.Get("Origin") != "",
		Secure:  ehs.Secure,
		URL:     ehs.URL,
		Query:   ehs.Query,
		Auth:    auth,
		ctx:     ehs.Context,
	}
	return &Socket{id: newSocketID(), nsp: nsp, client: c, hs: hs, finished: make(chan struct{})}
}

func hostOnly(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// ID is the socket id (not the Engine.IO session id).
func (s *Socket) ID() string { return s.id }

// Recovered reports whether the socket was restored by connection-state
// recovery: same id, rooms and data, and the missed events were replayed.
func (s *Socket) Recovered() bool { return s.recovered }

// Namespace is the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the connection's handshake data.
func (s *Socket) Handshake() *Handshake { return s.hs }

// Client is the underlying connection, shared by the client's namespaces.
func (s *Socket) Client() *Client { return s.client }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected
}

// Data returns the user data attached to the socket.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData attaches user data to the socket (FetchSockets returns it).
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
	s.sessionChanged()
}

// sessionChanged tells an adapter that keeps the sessions of connected
// sockets (SessionTracker) that this one's changed.
func (s *Socket) sessionChanged() {
	if s.pid == "" {
		return
	}
	t, ok := s.nsp.adapter.(SessionTracker)
	if !ok {
		return
	}
	s.mu.Lock()
	live := s.state == stateConnected || s.state == stateClosing
	s.mu.Unlock()
	if live {
		t.SessionChanged(s.id, s.liveSession)
	}
}

// liveSession is the session a SessionTracker keeps of a connected socket;
// false once the socket is disconnecting.
func (s *Socket) liveSession() (Session, bool) {
	s.mu.Lock()
	live := s.state == stateConnected || s.state == stateClosing
	data := s.data
	s.mu.Unlock()
	if !live {
		return Session{}, false
	}
	return Session{SID: s.id, PID: s.pid, Rooms: s.nsp.adapter.SocketRooms(s.id), Data: data}, true
}

// On registers a handler for event. handler is func(*Event), or a function
// of typed parameters optionally ending with an Ack, for example
// func(msg string, ack sockio.Ack). "disconnect" and "disconnecting" take
// func(reason string); "error" takes func(error). On panics on a handler of
// the wrong shape: that is a programming error, found at registration.
func (s *Socket) On(event string, handler any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch event {
	case "disconnect", "disconnecting":
		fn, ok := handler.(func(string))
		if !ok {
			panic(fmt.Sprintf("sockio: %q handler must be func(reason string), got %T", event, handler))
		}
		if event == "disconnect" {
			s.onDisconnect = append(s.onDisconnect, fn)
		} else {
			s.onDisconnecting = append(s.onDisconnecting, fn)
		}
		return
	case "error":
		fn, ok := handler.(func(error))
		if !ok {
			panic(fmt.Sprintf("sockio: \"error\" handler must be func(error), got %T", handler))
		}
		s.onError = append(s.onError, fn)
		return
	}
	h, err := newEventHandler(handler)
	if err != nil {
		panic(err.Error())
	}
	for i := range s.handlers {
		if s.handlers[i].event == event {
			s.handlers[i].fns = append(s.handlers[i].fns, h)
			return
		}
	}
	s.handlers = append(s.handlers, eventHandlers{event, []eventHandler{h}})
}

// eventHandlers are the handlers of one event, in registration order.
type eventHandlers struct {
	event string
	fns   []eventHandler
}

// handlersOf returns event's handlers; the caller holds s.mu.
func (s *Socket) handlersOf(event string) []eventHandler {
	for i := range s.handlers {
		if s.handlers[i].event == event {
			return s.handlers[i].fns
		}
	}
	return nil
}

// Off removes every handler of event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	s.handlers = slices.DeleteFunc(s.handlers, func(h eventHandlers) bool { return h.event == event })
	s.mu.Unlock()
}

// OnDisconnect registers a handler for the socket's disconnection.
func (s *Socket) OnDisconnect(fn func(reason string)) { s.On("disconnect", fn) }

// OnAny registers a handler called for every incoming event, before the
// event's own handlers.
func (s *Socket) OnAny(fn func(e *Event)) {
	s.mu.Lock()
	s.anyIn = append(s.anyIn, fn)
	s.mu.Unlock()
}

// OnAnyOutgoing registers a handler called for every event sent to this
// socket, broadcasts included. The recipients of a broadcast share one
// decoded Args: read it, do not modify what it returns.
func (s *Socket) OnAnyOutgoing(fn func(event string, args Args)) {
	s.mu.Lock()
	s.anyOut = append(s.anyOut, fn)
	s.mu.Unlock()
}

// Use adds a middleware for incoming events. An error stops the event and
// is passed to the socket's "error" handlers.
func (s *Socket) Use(fn func(e *Event) error) {
	s.mu.Lock()
	s.middlewares = append(s.middlewares, fn)
	s.mu.Unlock()
}

// Join adds the socket to rooms. After the socket disconnected it does
// nothing (a late Join from another goroutine must not leave rooms behind).
func (s *Socket) Join(rooms ...string) {
	s.mu.Lock()
	gone := s.state >= stateLeaving
	s.mu.Unlock()
	if !gone {
		s.nsp.adapter.AddAll(s.id, rooms)
		s.sessionChanged()
	}
}

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) {
	for _, r := range rooms {
		s.nsp.adapter.Del(s.id, r)
	}
	s.sessionChanged()
}

// Rooms returns the socket's rooms, sorted; its own id is one of them.
func (s *Socket) Rooms() []string {
	rooms := s.nsp.adapter.SocketRooms(s.id)
	slices.Sort(rooms)
	return rooms
}

// To returns an operator that broadcasts to rooms, except to this socket.
func (s *Socket) To(rooms ...string) *BroadcastOperator {
	return s.Broadcast().To(rooms...)
}

// In is the same as To.
func (s *Socket) In(rooms ...string) *BroadcastOperator { return s.To(rooms...) }

// Except returns an operator that broadcasts to everyone but this socket
// and the sockets in rooms.
func (s *Socket) Except(rooms ...string) *BroadcastOperator {
	return s.Broadcast().Except(rooms...)
}

// Broadcast returns an operator that reaches every socket of the namespace
// but this one.
func (s *Socket) Broadcast() *BroadcastOperator {
	return newBroadcastOperator(s.nsp).Except(s.id)
}

// Emit sends an event to this socket. If the last argument is a function
// it is an acknowledgement callback: AckCallback, or func(err error, ...)
// with typed parameters.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, &BroadcastFlags{})
}

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx ends.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return s.emitWithAck(ctx, event, args, &BroadcastFlags{})
}

// Timeout returns an emitter whose acknowledgements fail with ErrTimeout
// after d.
func (s *Socket) Timeout(d time.Duration) *Emitter {
	return &Emitter{s: s, flags: BroadcastFlags{Timeout: d}}
}

// Volatile returns an emitter whose events may be dropped when the client
// cannot take them right now.
func (s *Socket) Volatile() *Emitter { return &Emitter{s: s, flags: BroadcastFlags{Volatile: true}} }

// Compress returns an emitter that compresses (true) or not (false).
func (s *Socket) Compress(on bool) *Emitter {
	return &Emitter{s: s, flags: BroadcastFlags{NoCompress: !on}}
}

// Emitter sends events to one socket with flags set.
type Emitter struct {
	s     *Socket
	flags BroadcastFlags
}

// Timeout sets the acknowledgement timeout.
func (e *Emitter) Timeout(d time.Duration) *Emitter { f := *e; f.flags.Timeout = d; return &f }

// Volatile marks the events volatile.
func (e *Emitter) Volatile() *Emitter { f := *e; f.flags.Volatile = true; return &f }

// Compress turns compression on or off.
func (e *Emitter) Compress(on bool) *Emitter { f := *e; f.flags.NoCompress = !on; return &f }

// Emit is Socket.Emit with the emitter's flags.
func (e *Emitter) Emit(event string, args ...any) error { return e.s.emit(event, args, &e.flags) }

// EmitWithAck is Socket.EmitWithAck with the emitter's flags.
func (e *Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return e.s.emitWithAck(ctx, event, args, &e.flags)
}

func (s *Socket) emit(event string, args []any, flags *BroadcastFlags) error {
	args, cb := splitCallback(args)
	p, err := newEventPacket(s.nsp.name, event, args)
	if err != nil {
		return err
	}
	if cb != nil {
		fn, err := newAckCallback(cb)
		if err != nil {
			return err
		}
		p.ID, p.HasID = s.nsp.nextAckID(), true
		if !s.registerAck(p.ID, fn, s.ackTimeout(flags), false) {
			return ErrDisconnected
		}
	} else if s.nsp.server.opts.ConnectionStateRecovery != nil && !flags.Volatile {
		// Through the adapter, to the socket's own room, so that the event
		// is kept for replay, as the reference does.
		s.nsp.adapter.Broadcast(p, &BroadcastOptions{Rooms: []string{s.id}, Flags: *flags})
		return nil
	}
	return s.send(p, flags)
}

func (s *Socket) emitWithAck(ctx context.Context, event string, args []any, flags *BroadcastFlags) (Args, error) {
	p, err := newEventPacket(s.nsp.name, event, args)
	if err != nil {
		return Args{}, err
	}
	type result struct {
		err error
		res Args
	}
	ch := make(chan result, 1)
	p.ID, p.HasID = s.nsp.nextAckID(), true
	if !s.registerAck(p.ID, func(err error, res Args) { ch <- result{err, res} }, s.ackTimeout(flags), true) {
		return Args{}, ErrDisconnected
	}
	if err := s.send(p, flags); err != nil {
		s.dropAck(p.ID)
		return Args{}, err
	}
	select {
	case r := <-ch:
		return r.res, r.err
	case <-ctx.Done():
		s.dropAck(p.ID)
		return Args{}, ctx.Err()
	case <-s.client.conn.Done():
		s.dropAck(p.ID)
		return Args{}, ErrDisconnected
	}
}

// ackTimeout is the emit's Timeout, else the server's AckTimeout.
func (s *Socket) ackTimeout(flags *BroadcastFlags) time.Duration {
	if flags.Timeout > 0 {
		return flags.Timeout
	}
	return s.nsp.server.opts.AckTimeout
}

// failInlineAcks releases every EmitWithAck waiting on this socket with
// ErrDisconnected; the connection is gone.
func (s *Socket) failInlineAcks() {
	s.mu.Lock()
	var inline []*pendingAck
	for id, pa := range s.acks {
		if pa.inline {
			inline = append(inline, pa)
			delete(s.acks, id)
		}
	}
	s.mu.Unlock()
	for _, pa := range inline {
		if pa.timer != nil {
			pa.timer.Stop()
		}
		pa.fn(ErrDisconnected, Args{})
	}
}

// Context returns a context that is canceled when the socket disconnects,
// with the reason as its cause (context.Cause: an error that wraps
// ErrDisconnected). It carries the values of the HTTP request that opened
// the connection, so that what an HTTP middleware stored there (the
// authenticated user, say) reaches the socket's handlers; pass it to the
// calls a handler makes on the socket's behalf.
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		parent := s.hs.ctx
		if parent == nil {
			parent = context.Background()
		}
		s.ctx, s.cancel = context.WithCancelCause(parent)
		if s.ended != nil {
			s.cancel(s.ended)
		}
	}
	return s.ctx
}

// endContextLocked cancels the socket's context with the reason; s.mu is
// held.
func (s *Socket) endContextLocked(reason string) {
	if s.ended != nil {
		return
	}
	s.ended = fmt.Errorf("%w: %s", ErrDisconnected, reason)
	if s.cancel != nil {
		s.cancel(s.ended)
	}
}

// registerAck records a pending acknowledgement; it reports false when the
// socket is gone.
func (s *Socket) registerAck(id uint64, fn AckCallback, timeout time.Duration, inline bool) bool {
	pa := &pendingAck{fn: fn, inline: inline}
	if s.nsp.server.timing() {
		pa.asked = time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateConnected {
		return false
	}
	s.nsp.stats.ackRequests.Add(1)
	if s.acks == nil {
		s.acks = make(map[uint64]*pendingAck)
	}
	s.acks[id] = pa
	if timeout > 0 {
		pa.timer = time.AfterFunc(timeout, func() {
			if s.takeAck(id) == pa {
				s.nsp.stats.ackTimeout.Add(1)
				s.callAck(pa, ErrTimeout, Args{})
			}
		})
	}
	return true
}

func (s *Socket) takeAck(id uint64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	pa := s.acks[id]
	delete(s.acks, id)
	return pa
}

func (s *Socket) dropAck(id uint64) {
	if pa := s.takeAck(id); pa != nil && pa.timer != nil {
		pa.timer.Stop()
	}
}

func (s *Socket) callAck(pa *pendingAck, err error, res Args) {
	if pa.inline {
		pa.fn(err, res)
		return
	}
	s.client.enqueue(task{fn: func() { pa.fn(err, res) }}, false)
}

// onAck handles an ACK packet; it runs where the packet arrives, so that a
// handler waiting in EmitWithAck is released.
func (s *Socket) onAck(p *parser.Packet) {
	pa := s.takeAck(p.ID)
	if pa == nil {
		return
	}
	if pa.timer != nil {
		pa.timer.Stop()
	}
	s.nsp.stats.acksIn.Add(1)
	if !pa.asked.IsZero() {
		s.nsp.stats.ackLatency.observeSince(pa.asked)
	}
	res, err := newArgs(p, 0)
	s.callAck(pa, err, res)
}

func (s *Socket) sendAck(id uint64, args []any) error {
	p, err := newAckPacket(s.nsp.name, id, args)
	if err != nil {
		return err
	}
	s.nsp.stats.acksSent.Add(1)
	return s.client.write(s.client.server.encode(p), &BroadcastFlags{})
}

// send encodes p and hands it to the connection.
func (s *Socket) send(p *parser.Packet, flags *BroadcastFlags) error {
	return s.deliver(p, s.client.server.encode(p), flags, nil, "")
}

// deliver hands an encoded packet (possibly shared with other sockets) to
// the connection; offset is its place in the adapter's log, "" if none.
func (s *Socket) deliver(p *parser.Packet, enc []packet.Packet, flags *BroadcastFlags, ev *outgoingEvent, offset string) error {
	s.mu.Lock()
	if s.replayed != nil && offset != "" {
		if !s.replayed(offset) {
			s.mu.Unlock()
			return nil // its replay had it
		}
		s.replayed = nil
	}
	if q := s.early; q != nil && s.state < stateClosing {
		q.add(enc, flags, offset)
		s.mu.Unlock()
		return nil
	}
	ok := s.state == stateConnected
	out := s.anyOut
	s.mu.Unlock()
	if !ok {
		return ErrDisconnected
	}
	if len(out) > 0 && (p.Type == parser.Event || p.Type == parser.BinaryEvent) {
		if ev == nil {
			ev = &outgoingEvent{}
		}
		if name, a, ok := ev.decode(p); ok {
			for _, fn := range out {
				fn(name, a)
			}
		}
	}
	return s.client.write(enc, flags)
}

// earlyQueue is what reached a socket while it connected (Socket.early).
type earlyQueue struct {
	pkts    [][]packet.Packet
	flags   []*BroadcastFlags
	offsets []string // of logged broadcasts, "" for the others
}

// maxEarly bounds an early queue: a connect takes the middlewares' time,
// and a flood meanwhile must not grow it without end. Past it, packets are
// dropped, as a slow consumer's would be.
const maxEarly = 1024

func (q *earlyQueue) add(enc []packet.Packet, flags *BroadcastFlags, offset string) {
	if len(q.pkts) < maxEarly {
		q.pkts = append(q.pkts, enc)
		q.flags = append(q.flags, flags)
		q.offsets = append(q.offsets, offset)
	}
}

// replayedFrom drops the logged broadcasts that a recovery's replay holds
// (those for which newer is false), and returns newer if none of the
// queue's is newer yet (it is to be checked on later deliveries).
func (q *earlyQueue) replayedFrom(newer func(offset string) bool) (still func(string) bool) {
	still = newer
	n := 0
	for i, off := range q.offsets {
		if off != "" && still != nil {
			if !still(off) {
				continue
			}
			still = nil // in log order: the rest are newer too
		}
		q.pkts[n], q.flags[n], q.offsets[n] = q.pkts[i], q.flags[i], off
		n++
	}
	clear(q.pkts[n:])
	q.pkts, q.flags, q.offsets = q.pkts[:n], q.flags[:n], q.offsets[:n]
	return still
}

// becomeConnected sends what reached s while it connected, in order, then
// marks it connected: later deliveries write directly, after these.
func (s *Socket) becomeConnected() {
	for {
		s.mu.Lock()
		q := s.early
		if q == nil || len(q.pkts) == 0 {
			s.early = nil
			if s.state == stateConnecting {
				s.state = stateConnected
			}
			s.mu.Unlock()
			return
		}
		s.early = &earlyQueue{}
		s.mu.Unlock()
		for i, enc := range q.pkts {
			_ = s.client.write(enc, q.flags[i])
		}
	}
}

// outgoingEvent decodes a sent event for OnAnyOutgoing handlers once, on
// the first recipient that has any, however many recipients a broadcast
// has. A broadcast delivers from one goroutine, so it needs no lock.
type outgoingEvent struct {
	done bool
	ok   bool
	name string
	args Args
}

func (ev *outgoingEvent) decode(p *parser.Packet) (string, Args, bool) {
	if !ev.done {
		ev.done = true
		if a, err := newArgs(p, 0); err == nil && a.Len() > 0 {
			ev.name, _ = args.EventName(a.Raw(0))
			ev.args, ev.ok = a.Tail(1), true
		}
	}
	return ev.name, ev.args, ev.ok
}

// Disconnect disconnects the socket from its namespace, as the
// reference's socket.disconnect(): the client gets a DISCONNECT, its
// other namespaces stay connected.
func (s *Socket) Disconnect() {
	if !s.beginClose() {
		return
	}
	_ = s.client.write(s.client.server.encode(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}), &BroadcastFlags{})
	s.client.enqueue(task{fn: func() { s.finishClose(ReasonServerNamespaceDisconnect) }}, false)
}

// Close closes the socket's whole connection, every namespace of its
// client, as the reference's socket.disconnect(true).
func (s *Socket) Close() { s.client.disconnectAll() }

// disconnect is Disconnect, or Close with close: the adapters' form.
func (s *Socket) disconnect(close bool) {
	if close {
		s.Close()
	} else {
		s.Disconnect()
	}
}

// beginClose marks the socket as closing; false if it already was.
func (s *Socket) beginClose() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateConnected {
		return false
	}
	s.state = stateClosing
	return true
}

// finishClose runs the disconnect sequence of the reference: disconnecting
// handlers (rooms still visible), leave all rooms, disconnect handlers.
func (s *Socket) finishClose(reason string) {
	s.mu.Lock()
	if s.state != stateConnected && s.state != stateClosing {
		s.mu.Unlock()
		return
	}
	s.endContextLocked(reason)
	s.state = stateClosing
	before := s.onDisconnecting
	s.mu.Unlock()
	for _, fn := range before {
		fn(reason)
	}
	rooms := s.Rooms()
	s.mu.Lock()
	s.state = stateLeaving
	s.mu.Unlock()
	s.nsp.adapter.DelAll(s.id)
	// Kept only now that the old socket is out of every room: a recovery
	// racing this must not see its rooms removed afterwards. Kept before
	// the socket leaves the namespace: Server.Close waits for the sockets
	// still there before it closes the adapters.
	if s.pid != "" && recoverableReasons[reason] {
		s.nsp.adapter.PersistSession(Session{SID: s.id, PID: s.pid, Rooms: rooms, Data: s.Data()})
	} else if t, ok := s.nsp.adapter.(SessionTracker); ok && s.pid != "" {
		t.SessionEnded(s.id)
	}
	s.nsp.remove(s)
	s.client.remove(s)

	s.mu.Lock()
	s.state = stateGone
	acks := s.acks
	s.acks = nil
	after := s.onDisconnect
	s.mu.Unlock()
	for _, pa := range acks {
		if pa.timer != nil {
			pa.timer.Stop()
		}
		pa.fn(ErrDisconnected, Args{})
	}
	for _, fn := range after {
		fn(reason)
	}
	s.nsp.notifyDisconnect(s, reason)
	close(s.finished)
	// Last, so that disconnect handlers still find the namespace whole.
	s.nsp.server.releaseNamespace(s.nsp, s.pid != "" && recoverableReasons[reason])
}

// onEvent dispatches an EVENT packet; it runs on the client's worker.
func (s *Socket) onEvent(p *parser.Packet) {
	all, err := newArgs(p, 0)
	if err != nil {
		s.client.closeParseError(fmt.Errorf("bad event payload: %w", err))
		return
	}
	if all.Len() == 0 {
		return // a bare EVENT: the reference ignores it too
	}
	name, err := args.EventName(all.Raw(0))
	if err != nil {
		s.client.closeParseError(err)
		return
	}
	e := &Event{Name: name, Args: all.Tail(1), socket: s, ackID: p.ID, hasAck: p.HasID}
	ec := s.nsp.stats.event(name)
	ec.n.Add(1)
	if s.nsp.server.timing() {
		defer ec.latency.observeSince(time.Now())
	}

	s.mu.Lock()
	if s.state != stateConnected {
		s.mu.Unlock()
		return
	}
	anyIn, mws, hs := s.anyIn, s.middlewares, s.handlersOf(name)
	s.mu.Unlock()
	for _, fn := range anyIn {
		fn(e)
	}
	for _, mw := range mws {
		if err := mw(e); err != nil {
			s.nsp.stats.eventsRefused.Add(1)
			s.reportError(err)
			return
		}
	}
	for _, h := range hs {
		h(e)
	}
}

// reportError passes err to the "error" handlers.
func (s *Socket) reportError(err error) {
	s.mu.Lock()
	hs := s.onError
	s.mu.Unlock()
	for _, fn := range hs {
		fn(err)
	}
}
