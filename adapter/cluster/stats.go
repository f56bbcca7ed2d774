package cluster

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts, since NewAdapter (all its namespaces together), what went
// or may have gone missing between nodes. Each count is also logged, at
// most every 5s per kind with its running total.
type Stats struct {
	// NotPublished counts the messages the broker refused or failed.
	NotPublished uint64
	// Malformed counts the messages received that could not be read; they
	// were ignored.
	Malformed uint64
	// IncompleteRequests counts the requests to other nodes that ended
	// before every node answered (timeout, cancellation).
	IncompleteRequests uint64
	// NodesLost counts the nodes dropped for silence (no heartbeat within
	// HeartbeatTimeout); nodes that closed properly are not counted.
	NodesLost uint64
	// CallbacksDropped counts server-side events from other nodes dropped
	// because the queue of handlers waiting to run (1024) was full.
	CallbacksDropped uint64
	// SessionsNotKept counts the batches of live sessions (see
	// Options.DisableLiveSessions) the store failed; they are retried.
	SessionsNotKept uint64
}

// reporter counts one kind of loss and logs it, at most every 5s, with
// the running total.
type reporter struct {
	c      *core
	msg    string
	n      *atomic.Uint64
	mu     sync.Mutex
	last   time.Time
	silent uint64 // counted since the last log line
}

const reportEvery = 5 * time.Second

func (r *reporter) add(attrs ...any) {
	total := r.n.Add(1)
	r.mu.Lock()
	r.silent++
	now := time.Now()
	if now.Sub(r.last) < reportEvery {
		r.mu.Unlock()
		return
	}
	n := r.silent
	r.silent, r.last = 0, now
	r.mu.Unlock()
	r.c.log.Warn(r.msg, append(attrs, "count", n, "total", total)...)
}
