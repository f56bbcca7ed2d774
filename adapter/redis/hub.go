package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
)

// hub is the Redis side of one NewAdapter: the subscriber connection, the
// publisher and the routing of messages to the namespaces' adapters. It
// runs while at least one adapter is open.
type hub struct {
	client redis.UniversalClient
	opts   Options
	log    *slog.Logger

	stats        counters
	notPublished *reporter // Stats.NotPublished
	undelivered  *reporter // Stats.Undelivered
	malformed    *reporter // Stats.Malformed
	incomplete   *reporter // Stats.IncompleteRequests
	callsDropped *reporter // Stats.CallbacksDropped

	// Sharded mode: the cluster core's adapters, on broker.
	broker *shardedBroker
	core   sockio.AdapterFactory

	mu   sync.Mutex
	cur  *run
	refs int
}

func newHub(client redis.UniversalClient, opts Options) *hub {
	h := &hub{client: client, opts: opts, log: opts.Logger}
	h.notPublished = newReporter(h.log, "redis adapter: messages for other nodes dropped", &h.stats.notPublished)
	h.undelivered = newReporter(h.log, "redis adapter: messages reached fewer nodes than before; deliveries possibly lost", &h.stats.undelivered)
	h.malformed = newReporter(h.log, "redis adapter: malformed message ignored", &h.stats.malformed)
	h.incomplete = newReporter(h.log, "redis adapter: request ended before every node answered", &h.stats.incomplete)
	h.callsDropped = newReporter(h.log, "redis adapter: callback queue full; server-side events dropped", &h.stats.callsDropped)
	return h
}

// flushReports logs the counts still waiting for their next line.
func (h *hub) flushReports() {
	for _, r := range []*reporter{h.notPublished, h.undelivered, h.malformed, h.incomplete, h.callsDropped} {
		r.stop()
	}
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

// route delivers the messages of a subscription to one owner: a classic
// adapter, or a sharded broker subscription (its rooms' routes are owned
// by the namespace's adapter).
type route struct {
	owner any
	fn    func(channel string, payload []byte)
}

type outMsg struct {
	channel string
	payload []byte
	sharded bool
	// class names the channels that have the same subscribers (the
	// classic broadcast channels of a namespace, whatever their room), for
	// the receiver count baseline; via is the subscription through which
	// this node itself would get the message.
	class string
	via   sub
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

	// Redis disturbances, to estimate the deliveries lost (Stats).
	estimate  bool         // PUBLISH's receiver count is the whole cluster's
	lostLanes atomic.Int32 // subscriber lanes not hearing now
	calmAt    atomic.Int64 // unix nanoseconds: disturbed until then
	pubDown   atomic.Bool  // the last publish failed: drop until Redis answers
	expect    baselines    // publisher goroutine only
}

const (
	// settleTime: after a disturbance, how long receiver counts are still
	// compared with the calm baseline. It covers the other nodes'
	// resubscription: they retry with a backoff of at most maxBackoff.
	settleTime     = 2*maxBackoff + time.Second
	pubMaxBackoff  = time.Second // between PINGs while publishing is down
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
	_, cluster := h.client.(*redis.ClusterClient)
	r.estimate = !cluster || h.opts.Sharded
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
	r.h.flushReports()
	t := time.NewTimer(handlerGrace)
	defer t.Stop()
	select {
	case <-r.cbDone:
	case <-t.C:
		r.h.log.Warn("redis adapter: closed while a server-side event handler still runs; it ends when the handler returns")
	}
}

// publish queues a message; it never blocks. A full queue, a message too
// big, or Redis down since the last publish failed drops it (counted).
func (r *run) publish(m outMsg) {
	if max := r.h.opts.MaxMessageSize; max > 0 && len(m.payload) > max {
		r.h.notPublished.add(1, "channel", m.channel, "err", fmt.Errorf("%w: %d bytes, MaxMessageSize %d", errTooBig, len(m.payload), max))
		return
	}
	if r.pubDown.Load() {
		r.h.notPublished.add(1, "channel", m.channel, "err", errPublishDown)
		return
	}
	select {
	case r.pub <- m:
	default:
		r.h.notPublished.add(1, "channel", m.channel, "err", errQueueFull)
	}
}

var (
	errQueueFull   = errors.New("publish queue full")
	errTooBig      = errors.New("message too big")
	errPublishDown = errors.New("publishing stopped until Redis answers again")
)

// disturb marks Redis as disturbed for settleTime from now.
func (r *run) disturb() {
	until := time.Now().Add(settleTime).UnixNano()
	for {
		cur := r.calmAt.Load()
		if cur >= until || r.calmAt.CompareAndSwap(cur, until) {
			return
		}
	}
}

func (r *run) disturbed(now time.Time) bool {
	return r.lostLanes.Load() > 0 || now.UnixNano() < r.calmAt.Load()
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
		err := r.send(r.ctx, batch)
		clear(batch)
		if err != nil && r.ctx.Err() == nil { // not stopping: flush sends the rest
			r.down(err)
		}
	}
}

// down waits, while the queue's messages are dropped (counted), until
// Redis answers a PING again: messages queued behind an unreachable Redis
// would arrive late or not at all, and each batch could wait
// publishTimeout. Meanwhile publish drops new messages at once.
func (r *run) down(cause error) {
	r.pubDown.Store(true)
	r.disturb()
	backoff := minBackoff
	for {
		r.dropQueued(cause)
		t := time.NewTimer(backoff)
		select {
		case <-r.quit:
			t.Stop()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(r.ctx, publishTimeout)
		err := r.h.client.Ping(ctx).Err()
		cancel()
		if err == nil {
			r.pubDown.Store(false)
			r.disturb()
			return
		}
		cause = err
		backoff = min(2*backoff, pubMaxBackoff)
	}
}

func (r *run) dropQueued(cause error) {
	var n uint64
	var last string
	for {
		select {
		case m := <-r.pub:
			n++
			last = m.channel
			continue
		default:
		}
		break
	}
	if n > 0 {
		r.h.notPublished.add(n, "channel", last, "err", cause)
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
		_ = r.send(ctx, batch) // counted
		batch = batch[:0]
	}
}

// send publishes a batch and accounts for each message: not published,
// or published to fewer nodes than before (Stats). It returns an error
// when none was published.
func (r *run) send(parent context.Context, batch []outMsg) error {
	ctx, cancel := context.WithTimeout(parent, publishTimeout)
	defer cancel()
	cmds := make([]*redis.IntCmd, 0, len(batch))
	_, err := r.h.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range batch {
			if m.sharded {
				cmds = append(cmds, p.SPublish(ctx, m.channel, m.payload))
			} else {
				cmds = append(cmds, p.Publish(ctx, m.channel, m.payload))
			}
		}
		return nil
	})
	if err != nil && parent.Err() == nil {
		r.disturb()
	}
	now := time.Now()
	disturbed := r.disturbed(now)
	var self []bool
	if r.estimate {
		self = r.sub.wants(batch)
	}
	var failed, missed uint64
	var failErr error
	var lastFailed, lastMissed string
	var missedGot, missedBefore int64
	for i, m := range batch {
		got, cerr := cmds[i].Result()
		if cerr != nil {
			failed++
			failErr, lastFailed = cerr, m.channel
			continue
		}
		r.h.stats.published.Add(1)
		if !r.estimate {
			continue
		}
		b, known := r.expect.get(m.class, now)
		if !disturbed || known && got > b.receivers {
			// Calm: this is what the channel reaches now. Disturbed: a
			// count higher than the baseline (a node joined) raises it.
			r.expect.set(m.class, baseline{got, self[i], now})
		}
		if disturbed && known {
			if n := shortfall(b, got, self[i]); n > 0 {
				missed += uint64(n)
				lastMissed, missedGot, missedBefore = m.channel, got, b.receivers
			}
		}
	}
	r.h.notPublished.add(failed, "channel", lastFailed, "err", failErr)
	r.h.undelivered.add(missed, "channel", lastMissed, "receivers", missedGot, "before", missedBefore)
	if failed == uint64(len(batch)) {
		return failErr
	}
	return nil
}

// call runs fn on the callbacks goroutine: user handlers (server-side
// events, their acknowledgements) run there one at a time, in order, so a
// slow handler never stalls the subscriber. A full queue drops fn.
func (r *run) call(fn func()) bool {
	select {
	case r.calls <- fn:
		return true
	default:
		r.h.callsDropped.add(1)
		return false
	}
}

func (r *run) callbacks() {
	defer close(r.cbDone)
	wire.RunCalls(r.ctx, r.calls)
}

// addRoute subscribes s for owner.
func (r *run) addRoute(s sub, owner any, fn func(channel string, payload []byte)) {
	r.rmu.Lock()
	r.routes[s] = append(r.routes[s], route{owner, fn})
	r.rmu.Unlock()
	r.sub.want(s, +1)
}

// removeRoute undoes addRoute.
func (r *run) removeRoute(s sub, owner any) {
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
	r.h.stats.received.Add(1)
	if max := r.h.opts.MaxMessageSize; max > 0 && len(m.Payload) > max {
		r.h.malformed.add(1, "channel", m.Channel, "err", fmt.Errorf("%w: %d bytes, MaxMessageSize %d", errTooBig, len(m.Payload), max))
		return
	}
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
