package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sockio/sockio/client/internal/engine"
	"github.com/sockio/sockio/internal/args"
	"github.com/sockio/sockio/parser"
)

// Socket is the client's connection to one namespace, multiplexed with
// the manager's other sockets over one Engine.IO connection.
//
// A Socket is safe for concurrent use.
type Socket struct {
	m    *Manager
	nsp  string
	opts SocketOptions
	own  bool   // created by New or Connect: Close closes the manager too
	w    worker // the socket's handlers run here, in order

	mu         sync.Mutex
	active     bool   // wants to be connected (reconnects with the manager)
	connected  bool   // the server accepted its CONNECT
	closed     bool   // Close was called
	connectGen uint64 // the connection its CONNECT was sent on
	id         string
	pid        string // connection-state recovery: the private session id
	lastOffset string // and the offset of the last event received
	recovered  bool
	ids        uint64
	acks       map[uint64]*pendingAck
	sendBuffer []buffered // emits made while disconnected
	recvBuffer []*Event   // events that came before the CONNECT answer
	handlers   map[string][]*handlerEntry
	anyIn      []*handlerEntry
	waiters    []chan error // Connect calls
	lastErr    error
}

type buffered struct {
	p        *parser.Packet
	compress bool
}

type pendingAck struct {
	fn     AckCallback
	timer  *time.Timer
	inline bool // EmitWithAck: call where the ack arrives (it only sends on a channel)
}

type handlerEntry struct {
	once bool
	ev   eventHandler // an event handler
	life any          // or a lifecycle handler: func(), func(error), func(string)
}

// ID is the socket id given by the server, or "" while disconnected.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Namespace is the socket's namespace ("/", "/chat"...).
func (s *Socket) Namespace() string { return s.nsp }

// Manager is the manager whose connection the socket uses.
func (s *Socket) Manager() *Manager { return s.m }

// Connected reports whether the server accepted the socket and the
// connection is up.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Active reports whether the socket wants to be connected: true from
// Connect or Open until Disconnect, Close, a refusal by the server or a
// server-side disconnect. An active socket reconnects with its manager.
func (s *Socket) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Recovered reports whether the server restored the socket's previous
// session on the last connect (connection-state recovery): the missed
// events were replayed and the socket kept its id and rooms.
func (s *Socket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// On registers a handler for event. The lifecycle events take:
//
//	"connect"        func()
//	"connect_error"  func(error)          *ConnectError when the server refused
//	"disconnect"     func(reason string)
//	"error"          func(error)          an event's arguments did not decode
//
// Any other event takes func(*Event), or a function of typed parameters
// optionally ending with an Ack, for example func(msg string, ack
// client.Ack). Handlers of one socket run one at a time, in arrival order.
// On panics on a handler of the wrong shape.
func (s *Socket) On(event string, handler any) { s.on(event, handler, false) }

// Once is On for a handler that runs at most once.
func (s *Socket) Once(event string, handler any) { s.on(event, handler, true) }

func (s *Socket) on(event string, handler any, once bool) {
	e := &handlerEntry{once: once}
	switch event {
	case "connect":
		fn, ok := handler.(func())
		if !ok {
			panic(fmt.Sprintf("client: %q handler must be func(), got %T", event, handler))
		}
		e.life = fn
	case "connect_error", "error":
		fn, ok := handler.(func(error))
		if !ok {
			panic(fmt.Sprintf("client: %q handler must be func(error), got %T", event, handler))
		}
		e.life = fn
	case "disconnect":
		fn, ok := handler.(func(string))
		if !ok {
			panic(fmt.Sprintf("client: %q handler must be func(reason string), got %T", event, handler))
		}
		e.life = fn
	default:
		h, err := newEventHandler(handler)
		if err != nil {
			panic(err.Error())
		}
		e.ev = h
	}
	s.mu.Lock()
	if s.handlers == nil {
		s.handlers = make(map[string][]*handlerEntry)
	}
	s.handlers[event] = append(s.handlers[event], e)
	s.mu.Unlock()
}

// Off removes every handler of event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	delete(s.handlers, event)
	s.mu.Unlock()
}

// OnAny registers a handler called for every incoming event, before the
// event's own handlers.
func (s *Socket) OnAny(fn func(e *Event)) {
	s.mu.Lock()
	s.anyIn = append(s.anyIn, &handlerEntry{ev: fn})
	s.mu.Unlock()
}

// OffAny removes every OnAny handler.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.anyIn = nil
	s.mu.Unlock()
}

// takeHandlersLocked returns the handlers of event, dropping the Once ones
// from the list so that they run once.
func (s *Socket) takeHandlersLocked(event string) []*handlerEntry {
	hs := s.handlers[event]
	if !slices.ContainsFunc(hs, func(e *handlerEntry) bool { return e.once }) {
		return hs
	}
	keep := make([]*handlerEntry, 0, len(hs))
	for _, e := range hs {
		if !e.once {
			keep = append(keep, e)
		}
	}
	s.handlers[event] = keep
	return hs
}

// Connect connects the socket to its namespace and waits until the server
// accepts it. It returns a *ConnectError when the server refuses (the
// socket then stops), ErrReconnectFailed when the reconnection attempts
// are used up, or the context's error; in the last case the socket keeps
// trying in the background until Close or Disconnect.
func (s *Socket) Connect(ctx context.Context) error {
	ch, err := s.open(true)
	if err != nil || ch == nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		s.waiters = slices.DeleteFunc(s.waiters, func(c chan error) bool { return c == ch })
		last := s.lastErr
		s.mu.Unlock()
		if last != nil {
			return fmt.Errorf("failed to connect to namespace %s: %w (last error: %v)", s.nsp, ctx.Err(), last)
		}
		return fmt.Errorf("failed to connect to namespace %s: %w", s.nsp, ctx.Err())
	}
}

// Open starts connecting and returns at once; "connect" or
// "connect_error" handlers tell the outcome.
func (s *Socket) Open() error {
	_, err := s.open(false)
	return err
}

func (s *Socket) open(wait bool) (chan error, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if s.connected {
		s.mu.Unlock()
		return nil, nil
	}
	var ch chan error
	if wait {
		ch = make(chan error, 1)
		s.waiters = append(s.waiters, ch)
	}
	s.active = true
	s.mu.Unlock()
	if err := s.m.activate(s); err != nil {
		s.mu.Lock()
		s.active = false
		s.waiters = slices.DeleteFunc(s.waiters, func(c chan error) bool { return c == ch })
		s.mu.Unlock()
		return nil, err
	}
	return ch, nil
}

// Disconnect leaves the namespace (the server sees "client namespace
// disconnect") and stops reconnecting; "disconnect" handlers get "io
// client disconnect". When no other socket of the manager is active, the
// connection closes. Connect may be called again later.
func (s *Socket) Disconnect() {
	s.mu.Lock()
	was := s.connected
	s.mu.Unlock()
	if was {
		if c := s.m.currentConn(); c != nil {
			_ = s.m.sendPacket(c, false, &parser.Packet{Type: parser.Disconnect, Namespace: s.nsp})
		}
	}
	s.destroy()
	if was {
		s.onClose(ReasonIOClientDisconnect)
	}
	s.notifyWaiters(ErrDisconnected)
}

// Close disconnects the socket for good: emits fail with ErrClosed from
// now on, and buffered emits are dropped (their acknowledgements get
// ErrClosed). If the socket came from Connect or New, its manager is
// closed too; otherwise the manager forgets it (Manager.Socket then makes
// a new one) and the connection closes once no socket of the manager is
// active. Close then waits until the connection's goroutines
// and timers are gone; it never waits for handlers, so a handler may call
// it.
func (s *Socket) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.release(ErrClosed)
	s.Disconnect()
	if s.own {
		return s.m.Close()
	}
	s.m.forget(s) // Manager.Socket makes a new one for the namespace
	if !s.m.anyActive() {
		s.m.wait()
	}
	return nil
}

// release drops the offline buffer and fails every pending
// acknowledgement with err, stopping their timers.
func (s *Socket) release(err error) {
	s.mu.Lock()
	s.sendBuffer = nil
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()
	for _, pa := range acks {
		s.failAck(pa, err)
	}
}

// destroy makes the socket inactive; the manager closes its connection
// when no socket is active any more.
func (s *Socket) destroy() {
	s.mu.Lock()
	was := s.active
	s.active = false
	s.connectGen = 0
	s.mu.Unlock()
	if was {
		s.m.destroy()
	}
}

// onOpen sends the CONNECT packet on a freshly opened connection.
func (s *Socket) onOpen(conn *engine.Conn, ctx context.Context, gen uint64) {
	s.mu.Lock()
	if !s.active || s.connectGen == gen {
		s.mu.Unlock()
		return
	}
	s.connectGen = gen
	fn := s.opts.AuthFunc
	s.mu.Unlock()
	if fn == nil {
		s.sendConnect(conn, gen, s.opts.Auth)
		return
	}
	// The auth callback may take time (fetch a token): not on the
	// connection's goroutines.
	s.m.bg.Go(func() {
		auth, err := fn(ctx)
		if ctx.Err() != nil {
			return // the connection is gone; the next one asks again
		}
		if err != nil {
			s.refuse(fmt.Errorf("failed to get auth: %w", err))
			return
		}
		s.sendConnect(conn, gen, auth)
	})
}

func (s *Socket) sendConnect(conn *engine.Conn, gen uint64, auth any) {
	data, err := s.connectPayload(auth)
	if err != nil {
		s.refuse(err)
		return
	}
	s.mu.Lock()
	ok := s.active && s.connectGen == gen
	s.mu.Unlock()
	if ok {
		// An error means the connection closed: the next one sends again.
		_ = s.m.sendPacket(conn, true, &parser.Packet{Type: parser.Connect, Namespace: s.nsp, Data: data})
	}
}

// connectPayload is the CONNECT data: auth, plus pid and offset for
// connection-state recovery once the server gave a pid (keys of auth win,
// as in the reference).
func (s *Socket) connectPayload(auth any) (json.RawMessage, error) {
	s.mu.Lock()
	pid, offset := s.pid, s.lastOffset
	s.mu.Unlock()
	var obj map[string]json.RawMessage
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return nil, fmt.Errorf("failed to encode auth: %w", err)
		}
		if string(b) != "null" {
			if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &obj) != nil {
				return nil, fmt.Errorf("failed to encode auth: %s is not a JSON object", b)
			}
			if obj == nil {
				obj = map[string]json.RawMessage{}
			}
		}
	}
	if pid != "" {
		if obj == nil {
			obj = map[string]json.RawMessage{}
		}
		if _, ok := obj["pid"]; !ok {
			obj["pid"], _ = json.Marshal(pid)
		}
		if _, ok := obj["offset"]; !ok && offset != "" {
			obj["offset"], _ = json.Marshal(offset)
		}
	}
	if obj == nil {
		return nil, nil
	}
	return json.Marshal(obj)
}

// refuse stops the socket with a connection error.
func (s *Socket) refuse(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
	s.destroy()
	s.dispatchLife("connect_error", err)
	s.notifyWaiters(err)
}

// onPacket handles a packet for this namespace, on the connection's reader.
func (s *Socket) onPacket(ctx context.Context, p *parser.Packet) {
	switch p.Type {
	case parser.Connect:
		s.onConnectPacket(p)
	case parser.ConnectError:
		var body struct {
			Message string `json:"message"`
			Data    any    `json:"data"`
		}
		ce := &ConnectError{}
		if json.Unmarshal(p.Data, &body) == nil {
			ce.Message, ce.Data = body.Message, body.Data
		} else {
			_ = json.Unmarshal(p.Data, &ce.Message) // the payload may be a bare string
		}
		s.refuse(ce)
	case parser.Event, parser.BinaryEvent:
		s.onEvent(ctx, p)
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	case parser.Disconnect:
		s.destroy()
		s.onClose(ReasonIOServerDisconnect)
		s.notifyWaiters(ErrDisconnected)
	}
}

func (s *Socket) onConnectPacket(p *parser.Packet) {
	var body struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}
	if json.Unmarshal(p.Data, &body) != nil || body.SID == "" {
		// What the reference says to a Socket.IO v2 server's answer.
		err := errors.New("client: CONNECT answer without a sid (a Socket.IO v2 server? it is not compatible)")
		s.dispatchLife("connect_error", err)
		s.notifyWaiters(err)
		return
	}
	conn := s.m.currentConn()
	s.mu.Lock()
	if !s.active || s.connected || conn == nil {
		s.mu.Unlock()
		return
	}
	s.id = body.SID
	s.recovered = body.PID != "" && body.PID == s.pid
	s.pid = body.PID
	s.connected = true
	s.lastErr = nil
	recv := s.recvBuffer
	s.recvBuffer = nil
	// Emits made while offline leave first, in order. If the connection
	// closed meanwhile, the rest waits for the next one.
	sent := 0
	for _, b := range s.sendBuffer {
		// An encoding error drops the packet: the format cannot hold it,
		// and no later connection would do better.
		enc, err := s.m.encode(b.p)
		if err == nil && conn.Send(b.compress, enc...) != nil {
			break
		}
		sent++
	}
	s.sendBuffer = slices.Delete(s.sendBuffer, 0, sent)
	if len(s.sendBuffer) == 0 {
		s.sendBuffer = nil
	}
	s.mu.Unlock()
	for _, e := range recv {
		s.dispatchEvent(context.Background(), e, false)
	}
	s.dispatchLife("connect", nil)
	s.notifyWaiters(nil)
}

func (s *Socket) onEvent(ctx context.Context, p *parser.Packet) {
	all, err := newArgs(p, 0)
	if err != nil || all.Len() == 0 {
		return // a bare EVENT: ignored, as the reference does
	}
	name, err := args.EventName(all.Raw(0))
	if err != nil {
		return
	}
	a := all.Tail(1)
	e := &Event{Name: name, Args: a, socket: s, ackID: p.ID, hasAck: p.HasID}

	s.mu.Lock()
	if !s.active {
		s.mu.Unlock()
		return
	}
	// With recovery on, the server appends the packet's offset to events
	// it stores, which are never those with an ack.
	if s.pid != "" && !p.HasID && a.Len() > 0 {
		var off string
		if last := a.Raw(a.Len() - 1); len(last) > 0 && last[0] == '"' && json.Unmarshal(last, &off) == nil {
			s.lastOffset = off
		}
	}
	if !s.connected {
		if len(s.recvBuffer) < maxPending {
			s.recvBuffer = append(s.recvBuffer, e)
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.dispatchEvent(ctx, e, true)
}

// onClose marks the socket disconnected: "disconnect" handlers run, and
// pending acknowledgements fail, except those of emits still buffered
// (they are sent on reconnect).
func (s *Socket) onClose(reason string) {
	s.mu.Lock()
	was := s.connected
	s.connected = false
	s.id = ""
	var failed []*pendingAck
	for id, pa := range s.acks {
		if !slices.ContainsFunc(s.sendBuffer, func(b buffered) bool { return b.p.HasID && b.p.ID == id }) {
			delete(s.acks, id)
			failed = append(failed, pa)
		}
	}
	s.mu.Unlock()
	if was {
		s.dispatchLife("disconnect", reason)
	}
	for _, pa := range failed {
		s.failAck(pa, ErrDisconnected)
	}
}

// onEngineClose is the loss of the manager's connection.
func (s *Socket) onEngineClose(reason string) {
	s.mu.Lock()
	active := s.active
	s.connectGen = 0
	s.mu.Unlock()
	if active {
		s.onClose(reason)
	}
}

// onManagerError is a failed connection attempt: a socket not connected
// yet gets "connect_error"; giveUp ends the waits of Connect.
func (s *Socket) onManagerError(err error, giveUp bool) {
	s.mu.Lock()
	if !s.active || s.connected {
		s.mu.Unlock()
		return
	}
	s.lastErr = err
	s.mu.Unlock()
	s.dispatchLife("connect_error", err)
	if giveUp {
		s.notifyWaiters(err)
	}
}

func (s *Socket) notifyWaiters(err error) {
	s.mu.Lock()
	ws := s.waiters
	s.waiters = nil
	s.mu.Unlock()
	for _, ch := range ws {
		ch <- err
	}
}

// dispatchEvent queues an event for OnAny and the event's handlers.
func (s *Socket) dispatchEvent(ctx context.Context, e *Event, bounded bool) {
	s.w.push(ctx, func() {
		s.mu.Lock()
		anyIn := s.anyIn
		hs := s.takeHandlersLocked(e.Name)
		s.mu.Unlock()
		for _, h := range anyIn {
			h.ev(e)
		}
		for _, h := range hs {
			h.ev(e)
		}
	}, bounded)
}

// dispatchLife queues a lifecycle event (connect, connect_error,
// disconnect, error) for its handlers.
func (s *Socket) dispatchLife(event string, arg any) {
	s.w.push(context.Background(), func() {
		s.mu.Lock()
		hs := s.takeHandlersLocked(event)
		s.mu.Unlock()
		for _, h := range hs {
			switch f := h.life.(type) {
			case func():
				f()
			case func(error):
				f(arg.(error))
			case func(string):
				f(arg.(string))
			}
		}
	}, false)
}

// reportError passes err to the "error" handlers; it runs on the worker
// already (from a typed handler), so it calls them directly.
func (s *Socket) reportError(err error) {
	s.mu.Lock()
	hs := s.takeHandlersLocked("error")
	s.mu.Unlock()
	for _, h := range hs {
		if f, ok := h.life.(func(error)); ok {
			f(err)
		}
	}
}
