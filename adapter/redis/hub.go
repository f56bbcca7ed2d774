package redis

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// hub is the Redis side of one NewAdapter: the subscriber connection, the
// publisher and the routing of messages to the namespaces' adapters. It
// runs while at least one adapter is open.
type hub struct {
	client redis.UniversalClient
	opts   Options
	log    *slog.Logger

	mu   sync.Mutex
	cur  *run
	refs int
}

func newHub(client redis.UniversalClient, opts Options) *hub {
	return &hub{client: client, opts: opts, log: opts.Logger}
}

// acquire returns the running period of the hub, starting one if needed.
func (h *hub) acquire() *run {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil {
		h.cur = startRun(h)
	}
	h.refs++
	return h.cur
}

// release stops the hub when the last adapter is gone, and waits for its
// goroutines.
func (h *hub) release() {
	h.mu.Lock()
	h.refs--
	var r *run
	if h.refs == 0 {
		r, h.cur = h.cur, nil
	}
	h.mu.Unlock()
	if r != nil {
		r.stop()
	}
}

// The kinds of subscription.
type subKind byte

const (
	subChannel subKind = iota // SUBSCRIBE
	subPattern                // PSUBSCRIBE
	subShard                  // SSUBSCRIBE
)

type sub struct {
	kind subKind
	name string
}

// route delivers the messages of a subscription to one adapter.
type route struct {
	owner *Adapter
	fn    func(channel string, payload []byte)
}

type outMsg struct {
	channel string
	payload []byte
	sharded bool
}

// run is one period of activity of a hub, from its first adapter to the
// close of its last: goroutines, subscriber connection, queues.
type run struct {
	h      *hub
	ctx    context.Context
	cancel context.CancelFunc
	quit   chan struct{} // closed by stop: flush and exit
	wg     sync.WaitGroup
	cbDone chan struct{} // closed when the callbacks goroutine ends

	pub   chan outMsg // to the publisher
	calls chan func() // user callbacks, run one at a time
	sub   *subscriber

	rmu    sync.RWMutex
	routes map[sub][]route

	dropped   atomic.Int64 // messages not published since the last report
	lastDrop  atomic.Int64 // unix nanoseconds of the last report
	callsLost atomic.Int64
}

const (
	publishBatch   = 128
	callsQueue     = 1024
	publishTimeout = 5 * time.Second
	flushTimeout   = 2 * time.Second
	handlerGrace   = 2 * time.Second
	reportEvery    = 5 * time.Second
)

func startRun(h *hub) *run {
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{
		h: h, ctx: ctx, cancel: cancel, quit: make(chan struct{}), cbDone: make(chan struct{}),
		pub:    make(chan outMsg, h.opts.PublishQueue),
		calls:  make(chan func(), callsQueue),
		routes: make(map[sub][]route),
	}
	r.sub = newSubscriber(r)
	r.wg.Add(2) // and one per subscriber lane, started by reconcile
	go r.publisher()
	go r.callbacks()
	go r.sub.reconcile()
	return r
}

// stop flushes what is queued for publishing (for a short while), closes
// the subscriber and waits for the goroutines of the run. A user handler
// still running on the callbacks goroutine is waited for a short while
// only: that goroutine ends when the handler returns.
func (r *run) stop() {
	close(r.quit)
	r.sub.close()
	r.wg.Wait()
	t := time.NewTimer(handlerGrace)
	defer t.Stop()
	select {
	case <-r.cbDone:
	case <-t.C:
		r.h.log.Warn("redis adapter: closed while a server-side event handler still runs; it ends when the handler returns")
	}
}

// publish queues a message; it never blocks. A full queue drops it.
func (r *run) publish(channel string, payload []byte, sharded bool) {
	select {
	case r.pub <- outMsg{channel, payload, sharded}:
	default:
		r.noteDropped(1, errQueueFull)
	}
}

type queueFullError struct{}

func (queueFullError) Error() string { return "publish queue full" }

var errQueueFull error = queueFullError{}

func (r *run) noteDropped(n int, err error) {
	r.dropped.Add(int64(n))
	now := time.Now().UnixNano()
	last := r.lastDrop.Load()
	if now-last < int64(reportEvery) || !r.lastDrop.CompareAndSwap(last, now) {
		return
	}
	r.h.log.Warn("redis adapter: messages for other nodes dropped",
		"count", r.dropped.Swap(0), "err", err)
}

// publisher sends queued messages in pipelined batches, in queue order.
func (r *run) publisher() {
	defer r.wg.Done()
	batch := make([]outMsg, 0, publishBatch)
	for {
		var m outMsg
		select {
		case m = <-r.pub:
		case <-r.quit:
			r.flush(batch[:0])
			return
		}
		batch = append(batch[:0], m)
	fill:
		for len(batch) < publishBatch {
			select {
			case m = <-r.pub:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		r.send(r.ctx, batch)
		clear(batch)
	}
}

// flush publishes what is left in the queue when the run stops.
func (r *run) flush(batch []outMsg) {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case m := <-r.pub:
			batch = append(batch, m)
			if len(batch) < publishBatch {
				continue
			}
		default:
		}
		if len(batch) == 0 {
			return
		}
		r.send(ctx, batch)
		batch = batch[:0]
	}
}

func (r *run) send(parent context.Context, batch []outMsg) {
	ctx, cancel := context.WithTimeout(parent, publishTimeout)
	defer cancel()
	_, err := r.h.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range batch {
			if m.sharded {
				p.SPublish(ctx, m.channel, m.payload)
			} else {
				p.Publish(ctx, m.channel, m.payload)
			}
		}
		return nil
	})
	if err != nil {
		r.noteDropped(len(batch), err)
	}
}

// call runs fn on the callbacks goroutine: user handlers (server-side
// events, their acknowledgements) run there one at a time, in order, so a
// slow handler never stalls the subscriber. A full queue drops fn.
func (r *run) call(fn func()) bool {
	select {
	case r.calls <- fn:
		return true
	default:
		if r.callsLost.Add(1) == 1 {
			r.h.log.Warn("redis adapter: callback queue full; server-side events are being dropped")
		}
		return false
	}
}

func (r *run) callbacks() {
	defer close(r.cbDone)
	for {
		select {
		case fn := <-r.calls:
			fn()
		case <-r.ctx.Done():
			return
		}
	}
}

// addRoute subscribes s for owner.
func (r *run) addRoute(s sub, owner *Adapter, fn func(channel string, payload []byte)) {
	r.rmu.Lock()
	r.routes[s] = append(r.routes[s], route{owner, fn})
	r.rmu.Unlock()
	r.sub.want(s, +1)
}

// removeRoute undoes addRoute.
func (r *run) removeRoute(s sub, owner *Adapter) {
	r.rmu.Lock()
	rs := r.routes[s]
	for i, rt := range rs {
		if rt.owner == owner {
			rs = append(rs[:i:i], rs[i+1:]...)
			break
		}
	}
	if len(rs) == 0 {
		delete(r.routes, s)
	} else {
		r.routes[s] = rs
	}
	r.rmu.Unlock()
	r.sub.want(s, -1)
}

// dispatch hands a received message to the adapters subscribed to it.
func (r *run) dispatch(m *redis.Message) {
	var keys [2]sub
	n := 1
	if m.Pattern != "" {
		keys[0] = sub{subPattern, m.Pattern}
	} else {
		keys[0], keys[1] = sub{subChannel, m.Channel}, sub{subShard, m.Channel}
		n = 2
	}
	var payload []byte
	for _, k := range keys[:n] {
		r.rmu.RLock()
		rs := r.routes[k]
		r.rmu.RUnlock()
		for _, rt := range rs {
			if payload == nil {
				payload = []byte(m.Payload)
			}
			rt.fn(m.Channel, payload)
		}
	}
}
