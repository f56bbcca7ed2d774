package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/parser"
)

var errClosed = errors.New("redis adapter: closed")

// NewAdapter returns the adapter factory to set as sockio.Options.Adapter.
// All the namespaces of the server share one subscriber connection, made
// from client; give each Server its own NewAdapter.
func NewAdapter(client redis.UniversalClient, opts Options) sockio.AdapterFactory {
	h := newHub(client, opts.withDefaults())
	if h.opts.Sharded {
		// The sharded protocol is the cluster core's, over SPUBLISH.
		h.broker = &shardedBroker{h: h, subs: make(map[string]*shardedSub)}
		h.core = cluster.NewAdapter(h.broker, cluster.Options{RequestsTimeout: h.opts.RequestsTimeout, Logger: h.log})
	}
	return func(nsp *sockio.Namespace) sockio.Adapter { return newAdapter(h, nsp) }
}

// Adapter is the adapter of one namespace: a sockio.MemoryAdapter for the
// local sockets, plus Redis for the other nodes. In sharded mode it is the
// cluster core's adapter (adapter/cluster) on a Redis broker, plus the
// room subscriptions of the dynamic modes.
type Adapter struct {
	*sockio.MemoryAdapter
	core *cluster.Adapter // sharded mode only
	nsp  *sockio.Namespace
	h    *hub
	r    *run
	uid  string
	wire protocol
	subs []sub // the namespace's subscriptions (not the rooms')

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // requests running on their own goroutine

	mu       sync.Mutex
	closed   bool
	requests map[string]*request
	acks     map[string]*ackRequest

	rooms *roomSubs // sharded dynamic modes only

	peersMu sync.Mutex
	peers   map[string]time.Time // other nodes' uids → when last heard
}

// Peers heard from are remembered for a while, to name the nodes that did
// not answer a request; bounded, as uids come from the wire.
const (
	peerTTL  = time.Minute
	maxPeers = 1024
)

var _ sockio.Adapter = (*Adapter)(nil)

// protocol is a wire format: the classic one of @socket.io/redis-adapter,
// or the sharded one of its createShardedAdapter.
type protocol interface {
	routes() []routeSpec
	serverCount(ctx context.Context) (int, error)
	broadcast(p *parser.Packet, opts *sockio.BroadcastOptions) error
	broadcastWithAck(requestID string, p *parser.Packet, opts *sockio.BroadcastOptions) error
	socketsOp(kind inKind, opts *sockio.BroadcastOptions, rooms []string, close bool)
	fetchSockets(requestID string, opts *sockio.BroadcastOptions)
	allRooms(requestID string) error
	serverSideEmit(requestID string, data []any) error
	// respond answers request in with a response of kind carrying body.
	respond(in *incoming, kind inKind, body any)
}

type routeSpec struct {
	s  sub
	fn func(channel string, payload []byte)
}

func newAdapter(h *hub, nsp *sockio.Namespace) *Adapter {
	if h.core != nil {
		return newShardedAdapter(h, nsp)
	}
	a := &Adapter{
		MemoryAdapter: sockio.NewMemoryAdapter(nsp),
		nsp:           nsp,
		h:             h,
		uid:           randomID(8),
		requests:      make(map[string]*request),
		acks:          make(map[string]*ackRequest),
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.wire = newClassic(a)
	a.r = h.acquire()
	for _, rs := range a.wire.routes() {
		a.subs = append(a.subs, rs.s)
		a.r.addRoute(rs.s, a, rs.fn)
	}
	return a
}

// UID is the adapter's id in the cluster (the reference's uid).
func (a *Adapter) UID() string { return a.uid }

// Stats returns the counts of what went or may have gone missing between
// nodes, for the whole server (its namespaces share one connection to
// Redis): messages not published, deliveries Redis likely did not make,
// malformed messages, subscriber gaps, incomplete requests.
func (a *Adapter) Stats() Stats {
	st := a.h.stats.snapshot()
	if a.core != nil {
		// What the core counts (messages it could read but not use,
		// requests, callbacks) adds to what the Redis side counts.
		cs := a.core.Stats()
		st.NotPublished += cs.NotPublished
		st.Malformed += cs.Malformed
		st.IncompleteRequests += cs.IncompleteRequests
		st.CallbacksDropped += cs.CallbacksDropped
	}
	return st
}

// seen notes that another node (not an emitter) sent a message.
func (a *Adapter) seen(uid string) {
	if uid == "" || uid == "emitter" || uid == a.uid {
		return
	}
	now := time.Now()
	a.peersMu.Lock()
	defer a.peersMu.Unlock()
	if a.peers == nil {
		a.peers = make(map[string]time.Time)
	}
	if _, ok := a.peers[uid]; !ok && len(a.peers) >= maxPeers {
		for id, t := range a.peers {
			if now.Sub(t) > peerTTL {
				delete(a.peers, id)
			}
		}
		if len(a.peers) >= maxPeers {
			return
		}
	}
	a.peers[uid] = now
}

// silent lists the nodes heard from recently that are not in answered.
func (a *Adapter) silent(answered []string) []string {
	now := time.Now()
	a.peersMu.Lock()
	defer a.peersMu.Unlock()
	var out []string
	for id, t := range a.peers {
		if now.Sub(t) <= peerTTL && !slices.Contains(answered, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// WaitSubscribed waits until Redis confirmed the namespace's
// subscriptions: from then on the node receives what other nodes send.
func (a *Adapter) WaitSubscribed(ctx context.Context) error {
	return a.r.sub.waitConfirmed(ctx, a.subs)
}

// Close implements sockio.Adapter: pending requests fail, subscriptions
// end, and the shared connection closes with the last namespace.
func (a *Adapter) Close() error {
	if a.core != nil {
		if a.rooms != nil {
			a.rooms.closeAll()
		}
		return a.core.Close()
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	reqs, acks := a.requests, a.acks
	a.requests, a.acks = map[string]*request{}, map[string]*ackRequest{}
	for _, req := range reqs {
		req.finishLocked()
	}
	a.mu.Unlock()
	for _, ar := range acks {
		ar.timer.Stop()
	}
	a.cancel()
	a.wg.Wait()
	if a.rooms != nil {
		a.rooms.closeAll()
	}
	for _, s := range a.subs {
		a.r.removeRoute(s, a)
	}
	a.h.release()
	return a.MemoryAdapter.Close()
}

// Broadcast implements sockio.Adapter: other nodes get the packet through
// Redis (unless Local), local sockets at once.
func (a *Adapter) Broadcast(p *parser.Packet, opts *sockio.BroadcastOptions) {
	if a.core != nil {
		a.core.Broadcast(p, opts)
		return
	}
	if !opts.Flags.Local {
		if err := a.wire.broadcast(p, opts); err != nil {
			a.h.log.Warn("redis adapter: broadcast not sent to other nodes", "nsp", a.nsp.Name(), "err", err)
		}
	}
	a.MemoryAdapter.Broadcast(p, opts)
}

// BroadcastWithAck implements sockio.Adapter: each node reports its client
// count, then each client's acknowledgement (its first argument, as the
// reference passes on).
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts *sockio.BroadcastOptions, onCount func(int), onAck func(sockio.Args)) {
	if a.core != nil {
		a.core.BroadcastWithAck(p, opts, onCount, onAck)
		return
	}
	if !opts.Flags.Local {
		id := randomID(8)
		timeout := opts.Flags.Timeout
		if timeout <= 0 {
			timeout = a.h.opts.RequestsTimeout
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
		if err := a.wire.broadcastWithAck(id, p, opts); err != nil {
			a.h.log.Warn("redis adapter: broadcast not sent to other nodes", "nsp", a.nsp.Name(), "err", err)
		}
	}
	a.MemoryAdapter.BroadcastWithAck(p, opts, onCount, onAck)
}

// ServerCount implements sockio.Adapter: the number of nodes subscribed
// to the namespace, as Redis counts them.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	if a.core != nil {
		return a.core.ServerCount(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, a.h.opts.RequestsTimeout)
	defer cancel()
	n, err := a.wire.serverCount(ctx)
	if err != nil {
		return 0, fmt.Errorf("redis adapter: server count: %w", err)
	}
	return n, nil
}

// FetchSockets implements sockio.Adapter. On error (Redis away, a node
// that did not answer in time: the error wraps sockio.ErrTimeout) the
// sockets gathered so far, the local ones at least, come with it.
func (a *Adapter) FetchSockets(ctx context.Context, opts *sockio.BroadcastOptions) ([]*sockio.RemoteSocket, error) {
	if a.core != nil {
		return a.core.FetchSockets(ctx, opts)
	}
	local, _ := a.MemoryAdapter.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	req, err := a.request(ctx, inFetch, func(id string) error {
		a.wire.fetchSockets(id, opts)
		return nil
	})
	if req != nil {
		local = append(local, req.sockets...)
	}
	if err != nil {
		return local, fmt.Errorf("redis adapter: fetchSockets: %w", err)
	}
	return local, nil
}

// AllRooms returns the rooms of every node (classic mode only: the
// sharded protocol has no such request). On error the rooms gathered so
// far, the local ones at least, come with it.
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	set := make(map[string]struct{})
	for _, r := range a.MemoryAdapter.Rooms() {
		set[r] = struct{}{}
	}
	var req *request
	var err error
	if a.core != nil {
		var n int
		if n, err = a.core.ServerCount(ctx); err == nil && n > 1 {
			err = fmt.Errorf("the sharded protocol has no allRooms request: %w", errors.ErrUnsupported)
		}
	} else {
		req, err = a.request(ctx, inAllRooms, a.wire.allRooms)
	}
	if req != nil {
		for _, r := range req.rooms {
			set[r] = struct{}{}
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	slices.Sort(out)
	if err != nil {
		return out, fmt.Errorf("redis adapter: allRooms: %w", err)
	}
	return out, nil
}

// PersistSession implements sockio.Adapter: in this node's memory (Redis
// Pub/Sub keeps no log to recover from on another node).
func (a *Adapter) PersistSession(s sockio.Session) {
	if a.core != nil {
		a.core.PersistSession(s)
		return
	}
	a.MemoryAdapter.PersistSession(s)
}

// TakeSession implements sockio.Adapter.
func (a *Adapter) TakeSession(ctx context.Context, pid string) (*sockio.Session, error) {
	if a.core != nil {
		return a.core.TakeSession(ctx, pid)
	}
	return a.MemoryAdapter.TakeSession(ctx, pid)
}

// ReadMissed implements sockio.Adapter.
func (a *Adapter) ReadMissed(ctx context.Context, rooms []string, offset string) ([]*parser.Packet, string, bool, error) {
	if a.core != nil {
		return a.core.ReadMissed(ctx, rooms, offset)
	}
	return a.MemoryAdapter.ReadMissed(ctx, rooms, offset)
}

// OffsetAfter implements sockio.Adapter.
func (a *Adapter) OffsetAfter(x, y string) bool {
	if a.core != nil {
		return a.core.OffsetAfter(x, y)
	}
	return a.MemoryAdapter.OffsetAfter(x, y)
}

// AddSockets implements sockio.Adapter.
func (a *Adapter) AddSockets(opts *sockio.BroadcastOptions, rooms []string) {
	if a.core != nil {
		a.core.AddSockets(opts, rooms)
		return
	}
	if !opts.Flags.Local {
		a.wire.socketsOp(inJoin, opts, rooms, false)
	}
	a.MemoryAdapter.AddSockets(opts, rooms)
}

// DelSockets implements sockio.Adapter.
func (a *Adapter) DelSockets(opts *sockio.BroadcastOptions, rooms []string) {
	if a.core != nil {
		a.core.DelSockets(opts, rooms)
		return
	}
	if !opts.Flags.Local {
		a.wire.socketsOp(inLeave, opts, rooms, false)
	}
	a.MemoryAdapter.DelSockets(opts, rooms)
}

// DisconnectSockets implements sockio.Adapter.
func (a *Adapter) DisconnectSockets(opts *sockio.BroadcastOptions, close bool) {
	if a.core != nil {
		a.core.DisconnectSockets(opts, close)
		return
	}
	if !opts.Flags.Local {
		a.wire.socketsOp(inDisconnect, opts, nil, close)
	}
	a.MemoryAdapter.DisconnectSockets(opts, close)
}

// ServerSideEmit implements sockio.Adapter. args[0] is the event name.
// With onDone, it waits (on its own goroutine) for one acknowledgement
// per other node, until Options.RequestsTimeout or ctx ends; onDone gets
// the answers, each as Args of one value (the reference passes the first
// argument only).
func (a *Adapter) ServerSideEmit(ctx context.Context, args []any, onDone func(error, []sockio.Args)) {
	if a.core != nil {
		a.core.ServerSideEmit(ctx, args, onDone)
		return
	}
	data, err := wire.Values(args)
	if err == nil && (len(data) == 0 || !wire.IsEventName(data[0])) {
		err = errors.New("redis adapter: serverSideEmit needs an event name")
	}
	if err != nil {
		if onDone != nil {
			onDone(err, nil)
		}
		return
	}
	if onDone == nil {
		if err := a.wire.serverSideEmit("", data); err != nil {
			a.h.log.Warn("redis adapter: serverSideEmit not sent", "nsp", a.nsp.Name(), "err", err)
		}
		return
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		onDone(errClosed, nil)
		return
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		req, err := a.request(ctx, inServerSideEmit, func(id string) error { return a.wire.serverSideEmit(id, data) })
		var res []sockio.Args
		if req != nil {
			res = req.responses
		}
		if err != nil {
			err = fmt.Errorf("redis adapter: serverSideEmit: %w", err)
		}
		onDone(err, res)
	}()
}

// request asks the other nodes and waits for each to answer: it counts
// them, sends with send(requestID), and waits until all answered,
// Options.RequestsTimeout passed, ctx ended or the adapter closed. It
// returns the request (nil if none was sent) and why it is incomplete.
func (a *Adapter) request(ctx context.Context, kind inKind, send func(id string) error) (*request, error) {
	ctx, cancel := context.WithTimeout(ctx, a.h.opts.RequestsTimeout)
	defer cancel()
	stop := context.AfterFunc(a.ctx, cancel)
	defer stop()
	n, err := a.wire.serverCount(ctx)
	if err != nil {
		err = a.waitErr(ctx, fmt.Errorf("server count: %w", err))
		if err != errClosed {
			a.h.incomplete.add(1, "nsp", a.nsp.Name(), "request", kind.String(), "err", err)
		}
		return nil, err
	}
	if n <= 1 {
		return nil, nil
	}
	id := randomID(8)
	req := &request{kind: kind, expected: n - 1, done: make(chan struct{})}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, errClosed
	}
	a.requests[id] = req
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.requests, id)
		a.mu.Unlock()
	}()
	if err := send(id); err != nil {
		return nil, err
	}
	select {
	case <-req.done:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	req.finishLocked()
	if req.got >= req.expected {
		return req, nil
	}
	err = a.waitErr(ctx, fmt.Errorf("%d of %d nodes answered", req.got, req.expected))
	if err != errClosed {
		attrs := []any{"nsp", a.nsp.Name(), "request", kind.String(), "answered", req.got, "expected", req.expected}
		// The nodes that did not answer, when answers say who they are
		// from (sharded mode; the classic protocol's do not).
		if len(req.from) == req.got {
			if silent := a.silent(req.from); len(silent) > 0 {
				attrs = append(attrs, "silent", silent)
			}
		}
		a.h.incomplete.add(1, append(attrs, "err", err)...)
	}
	return req, err
}

// waitErr explains why a wait ended early: a timeout (wrapping
// sockio.ErrTimeout), the caller's cancellation, or the adapter's close.
func (a *Adapter) waitErr(ctx context.Context, detail error) error {
	if a.ctx.Err() != nil {
		return errClosed
	}
	return wire.WaitErr(ctx, detail)
}

// request is a request waiting for the other nodes' answers.
type request struct {
	kind      inKind
	expected  int
	got       int
	from      []string // uids of the nodes that answered, when known
	finished  bool
	done      chan struct{}
	sockets   []*sockio.RemoteSocket
	rooms     []string
	responses []sockio.Args
}

func (r *request) finishLocked() {
	if !r.finished {
		r.finished = true
		close(r.done)
	}
}

// ackRequest is a broadcast with acknowledgements waiting for the other
// nodes' client counts and their clients' answers.
type ackRequest struct {
	onCount func(int)
	onAck   func(sockio.Args)
	timer   *time.Timer
}

// answer records a response from node uid ("" if unknown) to request id,
// unless it is unknown, done, or of another kind; add runs under the lock.
func (a *Adapter) answer(id string, kind inKind, uid string, add func(*request)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	req := a.requests[id]
	if req == nil || req.finished || req.kind != kind {
		return
	}
	add(req)
	req.got++
	if uid != "" {
		req.from = append(req.from, uid)
	}
	if req.got >= req.expected {
		req.finishLocked()
	}
}

func (a *Adapter) ackRequest(id string) *ackRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acks[id]
}
