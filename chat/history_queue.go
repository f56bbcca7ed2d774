package chat

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// historyQueue writes messages to a History behind their delivery: a
// message goes to the room first, then here, and one writer goroutine
// (alive only while there is work) appends them in order. A History that
// is slow or down (Redis restarting) thus delays the replay, never a
// message; the queue is bounded, and when it is full the oldest waiting
// message is dropped from the history (counted and logged), so the
// replay still ends with the newest.
type historyQueue struct {
	h      History
	log    *slog.Logger
	max    int
	maxAge time.Duration // a failing message is retried until this old

	mu      sync.Mutex
	pending []queued // oldest first; pending[0] is being written while done != nil
	done    chan struct{}
	// Counted since the last log line, which comes at most every
	// historyLogRate, and when the queue empties.
	dropped, failed       uint64
	totalDropped, written uint64
	lastLog               time.Time
}

type queued struct {
	m  Message
	at time.Time
}

const (
	historyMaxAge  = 30 * time.Second
	historyLogRate = 10 * time.Second
)

func newHistoryQueue(h History, log *slog.Logger, max int) *historyQueue {
	if max < 2 {
		max = 1000
	}
	return &historyQueue{h: h, log: log, max: max, maxAge: historyMaxAge}
}

// add queues m for writing; it never blocks.
func (q *historyQueue) add(m Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) >= q.max {
		i := 0
		if q.done != nil {
			i = 1 // pending[0] is in flight
		}
		q.pending = slices.Delete(q.pending, i, i+1)
		q.dropped++
		q.totalDropped++
		q.logLocked(time.Now(), nil)
	}
	q.pending = append(q.pending, queued{m: m, at: time.Now()})
	if q.done == nil {
		q.done = make(chan struct{})
		go q.run(q.done)
	}
}

func (q *historyQueue) run(done chan struct{}) {
	failing := false
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.done = nil
			if q.dropped > 0 || q.failed > 0 {
				q.lastLog = time.Time{} // idle now: no count left unsaid
				q.logLocked(time.Now(), nil)
			}
			q.mu.Unlock()
			close(done)
			return
		}
		item := q.pending[0]
		q.mu.Unlock()

		failing = q.write(item, failing)

		q.mu.Lock()
		q.pending = slices.Delete(q.pending, 0, 1)
		q.mu.Unlock()
	}
}

// write appends one message, retrying while the History fails, until the
// message is maxAge old. While failing, older messages are given up
// without a try, so a History that stays down drains the queue quickly.
// It returns whether the History is failing.
func (q *historyQueue) write(item queued, failing bool) bool {
	wait := 100 * time.Millisecond
	for {
		if failing && time.Since(item.at) > q.maxAge {
			q.count(nil, true)
			return true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := q.h.Append(ctx, item.m)
		cancel()
		if err == nil {
			q.count(nil, false)
			return false
		}
		if !failing {
			q.count(err, false)
		}
		failing = true
		if time.Since(item.at)+wait > q.maxAge {
			q.count(nil, true)
			return true
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

func (q *historyQueue) count(err error, gaveUp bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	switch {
	case gaveUp:
		q.failed++
		q.totalDropped++
	case err == nil:
		q.written++
	}
	q.logLocked(now, err)
}

func (q *historyQueue) logLocked(now time.Time, err error) {
	if now.Sub(q.lastLog) < historyLogRate {
		return
	}
	q.lastLog = now
	switch {
	case err != nil:
		q.log.Warn("chat: append history failed; retrying, messages are still delivered", "err", err, "waiting", len(q.pending))
	case q.dropped > 0 || q.failed > 0:
		q.log.Warn("chat: messages not kept in the history", "queue_full", q.dropped, "write_failed", q.failed, "total", q.totalDropped, "waiting", len(q.pending))
		q.dropped, q.failed = 0, 0
	}
}

// recent is History.Recent plus the messages of room still waiting to be
// written, so a joiner's replay misses nothing this node delivered.
func (q *historyQueue) recent(ctx context.Context, room string, n int) ([]Message, error) {
	hist, err := q.h.Recent(ctx, room, n)
	if hist == nil {
		hist = []Message{}
	}
	seen := make(map[string]bool, len(hist))
	for _, m := range hist {
		seen[m.ID] = true
	}
	q.mu.Lock()
	for _, p := range q.pending {
		if p.m.Room == room && !seen[p.m.ID] {
			hist = append(hist, p.m)
		}
	}
	q.mu.Unlock()
	if len(hist) > n {
		hist = hist[len(hist)-n:]
	}
	return hist, err
}

// flush waits until every queued message is written or given up.
func (q *historyQueue) flush(ctx context.Context) error {
	for {
		q.mu.Lock()
		done := q.done
		q.mu.Unlock()
		if done == nil {
			return nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
