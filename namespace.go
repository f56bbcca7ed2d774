package sockio

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ConnectError is returned by a namespace middleware to refuse a
// connection: the client receives it as a connect_error with Message and
// Data. Any other error is sent with its Error() text as the message.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// Namespace is a communication channel over a shared connection, as in
// the reference: "/" by default, "/admin" and so on.
type Namespace struct {
	name    string
	server  *Server
	adapter Adapter
	parent  *ParentNamespace
	stats   *nspStats // its own, or its parent's (shared by the children)

	ids atomic.Uint64 // ack ids, shared by all sockets so a broadcast needs one

	// refs counts the sockets that hold the namespace: connected, or
	// between the server's lookup and the end of their CONNECT. A child
	// namespace is removed (CleanupEmptyChildNamespaces) only at zero, so
	// a socket never joins a namespace the server has let go of. It only
	// grows under the server's lock (read or write) and the removal checks
	// it under the write lock.
	refs atomic.Int64
	// keepUntil and keepTimer hold an empty child namespace while a
	// session left in it may be recovered; under the server's lock.
	keepUntil time.Time
	keepTimer *time.Timer
	closeOnce sync.Once // the adapter is closed once: by a cleanup or by Close

	mu           sync.RWMutex
	sockets      map[string]*Socket
	middlewares  []func(*Socket) error
	onConnection []func(*Socket)
	onServerSide []eventHandler
	onGone       []func(s *Socket, reason string)
}

func newNamespace(srv *Server, name string) *Namespace {
	n := &Namespace{name: name, server: srv, sockets: make(map[string]*Socket)}
	n.adapter = srv.adapterFactory(n)
	return n
}

// DefaultMaxNamespaceNameBytes is the default of
// Options.MaxNamespaceNameBytes.
const DefaultMaxNamespaceNameBytes = 256

func (n *Namespace) closeAdapter() { n.closeOnce.Do(func() { _ = n.adapter.Close() }) }

// Name is the namespace's name.
func (n *Namespace) Name() string { return n.name }

// Server is the server the namespace belongs to.
func (n *Namespace) Server() *Server { return n.server }

// Adapter is the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// Use adds a connection middleware. Middlewares run in order before the
// socket connects; an error refuses it with a connect_error.
func (n *Namespace) Use(fn func(s *Socket) error) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, fn)
	n.mu.Unlock()
}

// OnConnection registers a handler for each new socket.
func (n *Namespace) OnConnection(fn func(s *Socket)) {
	n.mu.Lock()
	n.onConnection = append(n.onConnection, fn)
	n.mu.Unlock()
}

// OnServerSideEmit registers a handler for events sent by other nodes with
// ServerSideEmit (see the adapter).
func (n *Namespace) OnServerSideEmit(handler any) {
	h, err := newEventHandler(handler)
	if err != nil {
		panic(err.Error())
	}
	n.mu.Lock()
	n.onServerSide = append(n.onServerSide, h)
	n.mu.Unlock()
}

// OnDisconnect registers a handler called after any socket of the
// namespace disconnected.
func (n *Namespace) OnDisconnect(fn func(s *Socket, reason string)) {
	n.mu.Lock()
	n.onGone = append(n.onGone, fn)
	n.mu.Unlock()
}

// Sockets returns the namespace's local sockets.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// Socket returns the local socket with id, or nil.
func (n *Namespace) Socket(id string) *Socket { return n.socket(id) }

func (n *Namespace) socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

func (n *Namespace) nextAckID() uint64 { return n.ids.Add(1) - 1 }

// To returns an operator that broadcasts to rooms.
func (n *Namespace) To(rooms ...string) *BroadcastOperator {
	return newBroadcastOperator(n).To(rooms...)
}

// In is the same as To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.To(rooms...) }

// Except returns an operator that broadcasts to all but rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator {
	return newBroadcastOperator(n).Except(rooms...)
}

// Volatile returns an operator whose events may be dropped.
func (n *Namespace) Volatile() *BroadcastOperator { return newBroadcastOperator(n).Volatile() }

// Local returns an operator limited to this node.
func (n *Namespace) Local() *BroadcastOperator { return newBroadcastOperator(n).Local() }

// Compress returns an operator with compression on or off.
func (n *Namespace) Compress(on bool) *BroadcastOperator {
	return newBroadcastOperator(n).Compress(on)
}

// Timeout returns an operator whose acknowledgements time out after d.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator {
	return newBroadcastOperator(n).Timeout(d)
}

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error {
	return newBroadcastOperator(n).Emit(event, args...)
}

// EmitWithAck sends an event to every socket and gathers their answers.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return newBroadcastOperator(n).EmitWithAck(ctx, event, args...)
}

// FetchSockets returns every socket of the namespace, across nodes.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return newBroadcastOperator(n).FetchSockets(ctx)
}

// SocketsJoin makes every socket join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) { newBroadcastOperator(n).SocketsJoin(rooms...) }

// SocketsLeave makes every socket leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) { newBroadcastOperator(n).SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket.
func (n *Namespace) DisconnectSockets(close bool) {
	newBroadcastOperator(n).DisconnectSockets(close)
}

// ServerSideEmit sends an event to the same namespace on the other nodes.
// A trailing func(err error, res []Args) waits for their acknowledgements.
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	args, cb := splitCallback(args)
	all := append([]any{event}, args...)
	if cb == nil {
		n.adapter.ServerSideEmit(context.Background(), all, nil)
		return nil
	}
	fn, ok := cb.(func(error, []Args))
	if !ok {
		return errors.New("sockio: ServerSideEmit callback must be func(error, []sockio.Args)")
	}
	n.adapter.ServerSideEmit(context.Background(), all, fn)
	return nil
}

// ServerSideEmitWithAck sends an event to the same namespace on the other
// nodes and waits for their acknowledgements, until ctx ends or the
// adapter's requests timeout (then with ErrTimeout, or the adapter's
// error, and the answers so far), as the reference's
// serverSideEmitWithAck.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	type result struct {
		err error
		res []Args
	}
	ch := make(chan result, 1)
	all := append([]any{event}, args...)
	n.adapter.ServerSideEmit(ctx, all, func(err error, res []Args) {
		select {
		case ch <- result{err, res}:
		default: // called twice by a faulty adapter: the first answer stands
		}
	})
	select {
	case r := <-ch:
		return r.res, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ServerCount returns the number of nodes serving the namespace.
func (n *Namespace) ServerCount(ctx context.Context) (int, error) { return n.adapter.ServerCount(ctx) }

// HandleServerSideEmit delivers an event from another node to this
// namespace's OnServerSideEmit handlers; cluster adapters call it.
func (n *Namespace) HandleServerSideEmit(name string, args Args, ack func(args ...any)) {
	n.mu.RLock()
	hs := n.onServerSide
	n.mu.RUnlock()
	e := &Event{Name: name, Args: args}
	if ack != nil {
		e.hasAck = true
		e.serverAck = ack
	}
	for _, h := range hs {
		h(e)
	}
}

// connect runs the middlewares for s and, if they pass, adds it.
func (n *Namespace) connect(s *Socket) error {
	n.mu.RLock()
	mws := n.middlewares
	n.mu.RUnlock()
	var parentMws []func(*Socket) error
	if n.parent != nil {
		n.parent.mu.RLock()
		parentMws = n.parent.middlewares
		n.parent.mu.RUnlock()
	}
	for _, list := range [][]func(*Socket) error{parentMws, mws} {
		for _, mw := range list {
			if err := mw(s); err != nil {
				n.stats.connectRefused.Add(1)
				return err
			}
		}
	}
	return nil
}

func (n *Namespace) add(s *Socket) {
	n.reach(s)
	n.stats.connections.Add(1)
}

// reach makes s a target of broadcasts (its early queue holds them until
// it is connected); add counts it connected.
func (n *Namespace) reach(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	n.mu.Unlock()
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	n.mu.Unlock()
}

func (n *Namespace) connectionHandlers() []func(*Socket) {
	n.mu.RLock()
	hs := n.onConnection
	n.mu.RUnlock()
	if n.parent != nil {
		n.parent.mu.RLock()
		hs = append(append([]func(*Socket){}, n.parent.onConnection...), hs...)
		n.parent.mu.RUnlock()
	}
	return hs
}

func (n *Namespace) notifyDisconnect(s *Socket, reason string) {
	n.stats.disconnected(reason)
	n.mu.RLock()
	hs := n.onGone
	n.mu.RUnlock()
	for _, fn := range hs {
		fn(s, reason)
	}
}

// ParentNamespace creates namespaces on demand: a client connecting to a
// name that matches gets a child namespace sharing the parent's
// middlewares and connection handlers, like io.of(/regex/) in the reference.
type ParentNamespace struct {
	server *Server
	match  func(name string, auth map[string]any) bool

	mu           sync.RWMutex
	middlewares  []func(*Socket) error
	onConnection []func(*Socket)
	children     map[string]*Namespace

	stats *nspStats // the children's, together
}

// Use adds a connection middleware for every child namespace.
func (p *ParentNamespace) Use(fn func(s *Socket) error) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, fn)
	p.mu.Unlock()
}

// OnConnection registers a connection handler for every child namespace.
func (p *ParentNamespace) OnConnection(fn func(s *Socket)) {
	p.mu.Lock()
	p.onConnection = append(p.onConnection, fn)
	p.mu.Unlock()
}

// Children returns the child namespaces that exist now (all those created
// so far, unless Options.CleanupEmptyChildNamespaces removes empty ones).
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, c := range p.children {
		out = append(out, c)
	}
	return out
}

// Emit sends an event to every socket of every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, c := range p.Children() {
		if err := c.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}
