package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/internal/notepack"
	"github.com/sockio/sockio/parser"
)

var errClosed = errors.New("cluster adapter: closed")

// emitterUID is the uid of the Node.js emitters (and of package emitter):
// not a node, never counted as one.
const emitterUID = "emitter"

// core is what the adapters (one per namespace) of one NewAdapter share.
type core struct {
	b       Broker
	blog    Log          // nil unless the broker keeps a log and sessions
	store   SessionStore // idem
	counter ServerCounter
	opts    Options
	log     *slog.Logger

	notPublishedN, malformedN, incompleteN, nodesLostN, callsDroppedN, sessionsNotKeptN atomic.Uint64

	notPublished, malformed, incomplete, nodesLost, callsDropped, sessionsNotKept *reporter
}

// NewAdapter returns the adapter factory to set as sockio.Options.Adapter:
// every namespace of the server talks to the other nodes through b. One
// broker may serve several servers; give each server its own NewAdapter.
func NewAdapter(b Broker, opts Options) sockio.AdapterFactory {
	c := &core{b: b, opts: opts.withDefaults()}
	c.log = c.opts.Logger
	if l, ok := b.(Log); ok {
		if s, ok := b.(SessionStore); ok {
			c.blog, c.store = l, s
		}
	}
	c.counter, _ = b.(ServerCounter)
	c.notPublished = &reporter{c: c, n: &c.notPublishedN, msg: "cluster adapter: messages not published"}
	c.malformed = &reporter{c: c, n: &c.malformedN, msg: "cluster adapter: malformed message ignored"}
	c.incomplete = &reporter{c: c, n: &c.incompleteN, msg: "cluster adapter: request ended before every node answered"}
	c.nodesLost = &reporter{c: c, n: &c.nodesLostN, msg: "cluster adapter: nodes lost (no heartbeat)"}
	c.callsDropped = &reporter{c: c, n: &c.callsDroppedN, msg: "cluster adapter: callback queue full; server-side events dropped"}
	c.sessionsNotKept = &reporter{c: c, n: &c.sessionsNotKeptN, msg: "cluster adapter: live sessions not kept; retrying"}
	return func(nsp *sockio.Namespace) sockio.Adapter { return newAdapter(c, nsp) }
}

// Adapter is the adapter of one namespace: a sockio.MemoryAdapter for the
// local sockets, plus the broker for the other nodes.
type Adapter struct {
	*sockio.MemoryAdapter
	c        *core
	nsp      *sockio.Namespace
	name     string
	uid      string
	recovery *sockio.RecoveryOptions // nil when the server has recovery off
	logged   bool                    // recovery through the broker's Log and SessionStore
	live     *liveSessions           // nil unless the sessions of connected sockets are kept

	// persisting is read-held by PersistSession and held by a flush of
	// live sessions: a socket's real session lands after its snapshot, and
	// Close waits for the sessions being kept.
	persisting sync.RWMutex

	ctx        context.Context // canceled by Close
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	cbDone     chan struct{} // closed when the callbacks goroutine ends
	subscribed chan struct{} // closed once the broker confirmed the subscription
	calls      chan func()   // server-side event handlers, run one at a time
	lastPub    atomic.Int64  // unix nanos of the last publish, for heartbeats

	mu       sync.Mutex
	closed   bool
	sub      Subscription
	nodes    map[string]time.Time // live nodes (peers with a ServerCounter) → when last heard
	requests map[string]*request
	acks     map[string]*ackRequest
}

var (
	_ sockio.Adapter        = (*Adapter)(nil)
	_ sockio.SessionTracker = (*Adapter)(nil)
)

const (
	callsQueue   = 1024
	handlerGrace = 2 * time.Second
)

func newAdapter(c *core, nsp *sockio.Namespace) *Adapter {
	a := &Adapter{
		MemoryAdapter: sockio.NewMemoryAdapter(nsp),
		c:             c,
		nsp:           nsp,
		name:          nsp.Name(),
		uid:           randomID(),
		subscribed:    make(chan struct{}),
		calls:         make(chan func(), callsQueue),
		nodes:         make(map[string]time.Time),
		requests:      make(map[string]*request),
		acks:          make(map[string]*ackRequest),
	}
	a.recovery = a.MemoryAdapter.Recovery()
	a.logged = a.recovery != nil && c.blog != nil
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.cbDone = make(chan struct{})
	go a.callbacks()
	if c.counter == nil {
		a.wg.Add(1)
		go a.heartbeats()
	}
	if a.logged && !c.opts.DisableLiveSessions {
		a.live = newLiveSessions(a)
		a.wg.Add(1)
		go a.live.run()
	}
	// Subscribe before returning when the broker answers, so that a new
	// server receives at once; otherwise keep trying in the background.
	if !a.subscribe() {
		a.wg.Add(1)
		go a.resubscribe()
	}
	return a
}

// UID is the node's id in the cluster (the reference's uid), unique per
// namespace adapter.
func (a *Adapter) UID() string { return a.uid }

// Stats returns the counts of what went or may have gone missing between
// nodes, for every namespace of the NewAdapter together.
func (a *Adapter) Stats() Stats {
	c := a.c
	return Stats{
		NotPublished:       c.notPublishedN.Load(),
		Malformed:          c.malformedN.Load(),
		IncompleteRequests: c.incompleteN.Load(),
		NodesLost:          c.nodesLostN.Load(),
		CallbacksDropped:   c.callsDroppedN.Load(),
		SessionsNotKept:    c.sessionsNotKeptN.Load(),
	}
}

// WaitSubscribed waits until the broker confirmed the namespace's
// subscription: from then on the node receives what other nodes send.
func (a *Adapter) WaitSubscribed(ctx context.Context) error {
	select {
	case <-a.subscribed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscribe subscribes once, within RequestsTimeout, and announces the
// node; false if the broker failed.
func (a *Adapter) subscribe() bool {
	ctx, cancel := context.WithTimeout(a.ctx, a.c.opts.RequestsTimeout)
	defer cancel()
	sub, err := a.c.b.Subscribe(ctx, a.name, a.uid, handler{a})
	if err != nil {
		if a.ctx.Err() == nil {
			a.c.log.Warn("cluster adapter: subscribe failed; retrying", "nsp", a.name, "err", err)
		}
		return false
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		_ = sub.Cancel()
		return true
	}
	a.sub = sub
	a.mu.Unlock()
	close(a.subscribed)
	if a.c.counter == nil {
		a.publishAsync(InitialHeartbeat, nil)
	}
	return true
}

func (a *Adapter) resubscribe() {
	defer a.wg.Done()
	wait := 100 * time.Millisecond
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(wait):
		}
		if a.subscribe() {
			return
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// callbacks runs server-side event handlers off the broker's goroutine:
// a handler may make a request whose answers that goroutine delivers.
func (a *Adapter) callbacks() {
	defer close(a.cbDone)
	wire.RunCalls(a.ctx, a.calls)
}

func (a *Adapter) call(fn func()) {
	select {
	case a.calls <- fn:
	default:
		a.c.callsDropped.add("nsp", a.name)
	}
}

// Close implements sockio.Adapter: pending requests fail, the other nodes
// are told (ADAPTER_CLOSE), the subscription ends.
func (a *Adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	for _, req := range a.requests {
		req.finishLocked()
	}
	a.requests = map[string]*request{}
	for _, ar := range a.acks {
		ar.timer.Stop()
	}
	a.acks = map[string]*ackRequest{}
	sub := a.sub
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
	// Sessions being kept by disconnecting sockets land before the
	// broker may be let go.
	a.persisting.Lock()
	//lint:ignore SA2001 a wait for the readers, not a critical section
	a.persisting.Unlock()
	// A handler still running is waited for a short while only: the
	// goroutine ends when it returns.
	t := time.NewTimer(handlerGrace)
	select {
	case <-a.cbDone:
	case <-t.C:
		a.c.log.Warn("cluster adapter: closed while a server-side event handler still runs; it ends when the handler returns", "nsp", a.name)
	}
	t.Stop()
	var err error
	if sub != nil {
		if a.c.counter == nil {
			_, _ = a.publish(AdapterClose, nil)
		}
		if err = sub.Cancel(); err != nil {
			err = fmt.Errorf("cluster adapter: unsubscribe: %w", err)
		}
	}
	return errors.Join(err, a.MemoryAdapter.Close())
}

// publish sends a message of type typ to every node, within
// RequestsTimeout, and returns its offset in the broker's log.
func (a *Adapter) publish(typ MessageType, data any) (string, error) {
	a.lastPub.Store(time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.RequestsTimeout)
	defer cancel()
	offset, err := a.c.b.Publish(ctx, &Message{UID: a.uid, NSP: a.name, Type: typ, Data: data})
	if err != nil {
		a.c.notPublished.add("nsp", a.name, "type", int(typ), "err", err)
		return "", fmt.Errorf("cluster adapter: publish: %w", err)
	}
	return offset, nil
}

// publishAsync publishes off the caller's goroutine (a broker's handler
// must not wait for the broker).
func (a *Adapter) publishAsync(typ MessageType, data any) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		_, _ = a.publish(typ, data)
	}()
}

// respond sends a response to node uid.
func (a *Adapter) respond(uid string, typ MessageType, data notepack.Map) {
	if uid == "" || uid == emitterUID {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.RequestsTimeout)
	defer cancel()
	if err := a.c.b.PublishResponse(ctx, uid, &Message{UID: a.uid, NSP: a.name, Type: typ, Data: data}); err != nil {
		a.c.notPublished.add("nsp", a.name, "type", int(typ), "err", err)
	}
}

// recoverable reports whether a broadcast is kept for connection-state
// recovery, as MemoryAdapter decides: an EVENT without ack, not volatile.
func (a *Adapter) recoverable(p *parser.Packet, opts *sockio.BroadcastOptions) bool {
	return a.recovery != nil && (p.Type == parser.Event || p.Type == parser.BinaryEvent) && !p.HasID && !opts.Flags.Volatile
}

// deliver sends a broadcast to the local sockets: with the broker's log,
// with its offset appended (offset "" for a broadcast not in the log);
// without, through MemoryAdapter's own recovery store.
func (a *Adapter) deliver(p *parser.Packet, opts *sockio.BroadcastOptions, offset string) {
	if !a.logged {
		a.MemoryAdapter.Broadcast(p, opts)
		return
	}
	if offset == "" || !a.recoverable(p, opts) {
		offset = ""
	} else {
		p.Data = wire.AppendArg(p.Data, offset)
	}
	a.MemoryAdapter.Deliver(p, opts, offset)
}

// Broadcast implements sockio.Adapter: published first (its offset, with
// a log, goes into the packet as the reference's ClusterAdapter does),
// then delivered to the local sockets.
//
// With a log, a broadcast kept for recovery reaches the local sockets
// from the log, as the other nodes' do: every client then gets them in
// the log's order, which recovery relies on (a client's offset is the
// last event it got; delivered before an older one from another node, a
// replay would send one it has and skip one it has not). It costs the
// local sockets a round trip to the broker.
func (a *Adapter) Broadcast(p *parser.Packet, opts *sockio.BroadcastOptions) {
	if opts.Flags.Local {
		a.deliver(p, opts, "")
		return
	}
	fromLog := a.logged && a.recoverable(p, opts) && a.isSubscribed()
	offset := ""
	pkt, err := wire.Packet(p, a.name)
	if err == nil {
		offset, err = a.publish(Broadcast, notepack.Map{
			{Key: "packet", Value: pkt},
			{Key: "opts", Value: wire.Options(opts, true)},
		})
	}
	if err != nil {
		a.c.log.Warn("cluster adapter: broadcast not sent to other nodes", "nsp", a.name, "err", err)
	} else if fromLog && offset != "" {
		return // the subscription delivers it (ownBroadcast)
	}
	a.deliver(p, opts, offset)
}

// isSubscribed reports whether the broker delivers the namespace's
// messages (its own included) from now on.
func (a *Adapter) isSubscribed() bool {
	select {
	case <-a.subscribed:
		return true
	default:
		return false
	}
}

// BroadcastWithAck implements sockio.Adapter: each node reports its client
// count, then each client's acknowledgement (its first argument, as the
// reference passes on).
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts *sockio.BroadcastOptions, onCount func(int), onAck func(sockio.Args)) {
	if !opts.Flags.Local {
		id := randomID()
		timeout := opts.Flags.Timeout
		if timeout <= 0 {
			timeout = a.c.opts.RequestsTimeout
		}
		ar := &ackRequest{onCount: onCount, onAck: onAck}
		a.mu.Lock()
		if !a.closed {
			a.acks[id] = ar
			ar.timer = time.AfterFunc(timeout, func() {
				a.mu.Lock()
				delete(a.acks, id)
				a.mu.Unlock()
			})
		}
		a.mu.Unlock()
		pkt, err := wire.Packet(p, a.name)
		if err == nil {
			_, err = a.publish(Broadcast, notepack.Map{
				{Key: "packet", Value: pkt},
				{Key: "requestId", Value: id},
				{Key: "opts", Value: wire.Options(opts, true)},
			})
		}
		if err != nil {
			a.c.log.Warn("cluster adapter: broadcast not sent to other nodes", "nsp", a.name, "err", err)
		}
	}
	a.MemoryAdapter.BroadcastWithAck(p, opts, onCount, onAck)
}

// ackRequest is a broadcast with acknowledgements waiting for the other
// nodes' client counts and their clients' answers.
type ackRequest struct {
	onCount func(int)
	onAck   func(sockio.Args)
	timer   *time.Timer
}

// socketsOp publishes a socket operation; the caller applies it locally.
func (a *Adapter) socketsOp(typ MessageType, opts *sockio.BroadcastOptions, extra notepack.KV) {
	if opts.Flags.Local {
		return
	}
	if _, err := a.publish(typ, notepack.Map{{Key: "opts", Value: wire.Options(opts, true)}, extra}); err != nil {
		a.c.log.Warn("cluster adapter: socket operation not sent to other nodes", "nsp", a.name, "err", err)
	}
}

// AddSockets implements sockio.Adapter.
func (a *Adapter) AddSockets(opts *sockio.BroadcastOptions, rooms []string) {
	a.socketsOp(SocketsJoin, opts, notepack.KV{Key: "rooms", Value: wire.StringsOrEmpty(rooms)})
	a.MemoryAdapter.AddSockets(opts, rooms)
}

// DelSockets implements sockio.Adapter.
func (a *Adapter) DelSockets(opts *sockio.BroadcastOptions, rooms []string) {
	a.socketsOp(SocketsLeave, opts, notepack.KV{Key: "rooms", Value: wire.StringsOrEmpty(rooms)})
	a.MemoryAdapter.DelSockets(opts, rooms)
}

// DisconnectSockets implements sockio.Adapter.
func (a *Adapter) DisconnectSockets(opts *sockio.BroadcastOptions, close bool) {
	a.socketsOp(DisconnectSockets, opts, notepack.KV{Key: "close", Value: close})
	a.MemoryAdapter.DisconnectSockets(opts, close)
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
