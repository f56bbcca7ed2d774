package redis

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts, since the adapter was made (all the namespaces of one
// NewAdapter together), what went or may have gone missing between nodes.
// Redis Pub/Sub keeps nothing: a message published while a node is not
// subscribed is lost for that node. The adapter cannot prevent that, but
// it never loses one silently: each count here is also logged (at most
// every 5s per kind, with its running total), so that metrics can read
// the same numbers.
type Stats struct {
	// Published counts the messages Redis accepted (PUBLISH or SPUBLISH
	// answered).
	Published uint64
	// Received counts the messages that came from Redis, before any
	// check: Pub/Sub hands a node its own publishes too, which it skips.
	Received uint64
	// NotPublished counts the messages for other nodes that never reached
	// Redis: the publish queue was full, Redis did not answer (down,
	// unreachable, too slow), or the message was bigger than
	// MaxMessageSize.
	NotPublished uint64
	// Undelivered estimates the deliveries to other nodes that Redis did
	// not make: while Redis is disturbed (this node's subscriber lost its
	// connection, or a publish failed, until a few seconds after it is
	// back) a message that reached fewer subscribers than its channel had
	// before counts one per subscriber missing, from PUBLISH's receiver
	// count. It errs high: this node is assumed to be subscribed itself,
	// even while it resubscribes. It is not estimated in classic mode on a
	// Redis Cluster, where PUBLISH counts one cluster node's subscribers
	// only.
	Undelivered uint64
	// Malformed counts the messages received that could not be decoded, or
	// were bigger than MaxMessageSize; they were ignored.
	Malformed uint64
	// SubscriberGaps counts the times a subscriber connection was lost
	// (or stopped answering) after having been up, and DeafTime adds up
	// how long each lasted, until Redis confirmed the resubscription:
	// what other nodes published meanwhile did not reach this node.
	SubscriberGaps uint64
	DeafTime       time.Duration
	// IncompleteRequests counts the requests to other nodes (FetchSockets,
	// ServerSideEmit with an acknowledgement, AllRooms) that ended before
	// every node answered.
	IncompleteRequests uint64
	// CallbacksDropped counts the server-side events and acknowledgements
	// from other nodes dropped because the queue of handlers waiting to
	// run (1024) was full: a handler is too slow for the traffic.
	CallbacksDropped uint64
}

// Dropped is every message or delivery between nodes known or estimated
// lost: NotPublished + Undelivered + Malformed + CallbacksDropped. What a
// deaf subscriber missed is not in it (see SubscriberGaps): nothing tells
// a node what was published while it was not listening.
func (s Stats) Dropped() uint64 {
	return s.NotPublished + s.Undelivered + s.Malformed + s.CallbacksDropped
}

// counters are the hub's Stats, kept across its runs.
type counters struct {
	published, received, notPublished, undelivered, malformed atomic.Uint64
	gaps, incomplete, callsDropped                            atomic.Uint64
	deafNanos                                                 atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Published:          c.published.Load(),
		Received:           c.received.Load(),
		NotPublished:       c.notPublished.Load(),
		Undelivered:        c.undelivered.Load(),
		Malformed:          c.malformed.Load(),
		SubscriberGaps:     c.gaps.Load(),
		DeafTime:           time.Duration(c.deafNanos.Load()),
		IncompleteRequests: c.incomplete.Load(),
		CallbacksDropped:   c.callsDropped.Load(),
	}
}

// reporter logs one kind of loss without flooding the log: the first
// event at once, the next ones summed in one line per reportEvery, the
// last ones by a timer, so that none goes unlogged. Each line has the
// count since the previous line, the running total, and the details of
// the latest event.
type reporter struct {
	log   *slog.Logger
	msg   string
	total *atomic.Uint64

	mu      sync.Mutex
	pending uint64
	attrs   []any
	last    time.Time
	timer   *time.Timer
}

func newReporter(log *slog.Logger, msg string, total *atomic.Uint64) *reporter {
	return &reporter{log: log, msg: msg, total: total}
}

// add counts n events (in the total too) and logs them, now or later.
func (r *reporter) add(n uint64, attrs ...any) {
	if n == 0 {
		return
	}
	r.total.Add(n)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending += n
	r.attrs = attrs
	wait := reportEvery - time.Since(r.last)
	if wait <= 0 {
		r.flushLocked()
		return
	}
	if r.timer == nil {
		r.timer = time.AfterFunc(wait, r.flush)
	}
}

func (r *reporter) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timer = nil
	r.flushLocked()
}

// stop logs what is pending now and cancels the timer (the run ends).
func (r *reporter) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.flushLocked()
}

func (r *reporter) flushLocked() {
	if r.pending == 0 {
		return
	}
	args := append([]any{"count", r.pending, "total", r.total.Load()}, r.attrs...)
	r.log.Warn(r.msg, args...)
	r.pending, r.attrs, r.last = 0, nil, time.Now()
}

// baseline is what a channel's PUBLISH reached while Redis was calm: the
// receiver count, and whether this node was one of them.
type baseline struct {
	receivers int64
	self      bool
	at        time.Time
}

// baselineTTL: an older baseline is not trusted (nodes come and go
// without this node publishing on the channel).
const baselineTTL = 10 * time.Minute

// baselines remembers the last calm baseline of each channel class, in
// two generations so that it stays bounded (maxBaselines) without
// forgetting the channels in use. Only the publisher goroutine uses it.
type baselines struct {
	cur, old map[string]baseline
}

// maxBaselines bounds the channel classes remembered: one per namespace
// in classic mode, one per room with a channel in the sharded dynamic
// modes (a room published to less often than that is not estimated).
const maxBaselines = 4096

func (b *baselines) get(class string, now time.Time) (baseline, bool) {
	v, ok := b.cur[class]
	if !ok {
		v, ok = b.old[class]
	}
	return v, ok && now.Sub(v.at) < baselineTTL
}

func (b *baselines) set(class string, v baseline) {
	if b.cur == nil || len(b.cur) >= maxBaselines/2 {
		b.old, b.cur = b.cur, make(map[string]baseline)
	}
	b.cur[class] = v
}

// shortfall is the number of other nodes a message missed: those of the
// channel's calm baseline less those that got it, counting this node
// among the receivers whenever it wants the channel (so it errs high
// while this node itself resubscribes).
func shortfall(b baseline, got int64, self bool) int64 {
	before := b.receivers
	if b.self {
		before--
	}
	now := got
	if self {
		now--
	}
	return max(0, before-max(0, now))
}
