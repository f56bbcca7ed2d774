package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/sockio/sockio"
)

// liveSessions keeps, in the broker's SessionStore, the session of every
// connected socket of a namespace, so that a client whose node dies with
// nothing said (SIGKILL, a crash, a lost machine) recovers through any
// other node: a clean disconnect replaces the snapshot with the real
// session (PersistSession) or forgets it (SessionEnded).
//
// Changes are coalesced: a socket that connected, or whose rooms or data
// changed, is written at the next flush (every Options.LiveSessionsFlush),
// all of them in one batch. Each snapshot is kept for the recovery window
// plus the refresh period, and rewritten after the refresh period (half
// the window) even when nothing changed: a connected socket's snapshot
// never expires, and a client whose node died can come back for at least
// the recovery window after the death.
type liveSessions struct {
	a       *Adapter
	flush   time.Duration // how often changes are written
	refresh time.Duration // how old a snapshot may get before it is rewritten
	ttl     time.Duration // how long the store keeps a snapshot

	mu        sync.Mutex
	closed    bool
	tracked   map[string]*liveEntry // connected sockets, by socket id
	dirty     []string              // ids to write at the next flush
	drops     []string              // pids whose snapshots must go
	lastCheck time.Time             // when tracked was last scanned for refreshes
}

type liveEntry struct {
	snap    func() (sockio.Session, bool)
	pid     string    // set once a snapshot is in the store
	written time.Time // when it was written
	dirty   bool      // in liveSessions.dirty
}

// liveBatch bounds the sessions of one call to the store.
const liveBatch = 256

func newLiveSessions(a *Adapter) *liveSessions {
	w := a.recovery.MaxDisconnectionDuration
	if w <= 0 {
		w = 2 * time.Minute
	}
	flush := a.c.opts.LiveSessionsFlush
	refresh := max(w/2, flush)
	return &liveSessions{
		a:       a,
		flush:   flush,
		refresh: refresh,
		ttl:     w + refresh,
		tracked: make(map[string]*liveEntry),
	}
}

// SessionChanged implements sockio.SessionTracker.
func (a *Adapter) SessionChanged(id string, snapshot func() (sockio.Session, bool)) {
	if l := a.live; l != nil {
		l.changed(id, snapshot)
	}
}

// SessionEnded implements sockio.SessionTracker.
func (a *Adapter) SessionEnded(id string) {
	if l := a.live; l != nil {
		l.ended(id)
	}
}

func (l *liveSessions) changed(id string, snap func() (sockio.Session, bool)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	e := l.tracked[id]
	if e == nil {
		e = &liveEntry{}
		l.tracked[id] = e
	}
	e.snap = snap
	if !e.dirty {
		e.dirty = true
		l.dirty = append(l.dirty, id)
	}
}

// ended forgets socket id; its snapshot, if written, goes at the next
// flush, or at once when there is none (the adapter closed).
func (l *liveSessions) ended(id string) {
	l.mu.Lock()
	e := l.tracked[id]
	if e == nil || e.pid == "" {
		delete(l.tracked, id)
		l.mu.Unlock()
		return
	}
	delete(l.tracked, id)
	if !l.closed {
		l.drops = append(l.drops, e.pid)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	a := l.a
	ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.RequestsTimeout)
	defer cancel()
	if err := persistSessions(ctx, a.c.store, a.name, nil, l.ttl, []string{e.pid}); err != nil {
		a.c.sessionsNotKept.add("nsp", a.name, "dropped", 1, "err", err)
	}
}

// disconnected is called before the real session of socket id is kept:
// the snapshot is no longer refreshed, and the session overwrites it.
func (l *liveSessions) disconnected(id string) {
	l.mu.Lock()
	delete(l.tracked, id)
	l.mu.Unlock()
}

// run flushes every l.flush until the adapter closes, then once more.
func (l *liveSessions) run() {
	defer l.a.wg.Done()
	t := time.NewTicker(l.flush)
	defer t.Stop()
	for {
		select {
		case <-l.a.ctx.Done():
			l.mu.Lock()
			l.closed = true
			l.mu.Unlock()
			// What changed last is written still: a socket of a node that
			// closes without disconnecting it stays recoverable.
			l.flushOnce(time.Now())
			return
		case now := <-t.C:
			l.flushOnce(now)
		}
	}
}

// flushOnce writes the snapshots of the sockets that changed or are due
// for a refresh, and forgets those of sockets that ended.
func (l *liveSessions) flushOnce(now time.Time) {
	l.mu.Lock()
	// Scanning every socket is O(n): done an eighth of the refresh period
	// at most, it rewrites each snapshot before it is refresh old.
	every := max(l.refresh/8, l.flush)
	if now.Sub(l.lastCheck) >= every {
		l.lastCheck = now
		for id, e := range l.tracked {
			if !e.dirty && (e.pid == "" || now.Sub(e.written) >= l.refresh-every) {
				e.dirty = true
				l.dirty = append(l.dirty, id)
			}
		}
	}
	ids, drops := l.dirty, l.drops
	l.dirty, l.drops = nil, nil
	l.mu.Unlock()
	for len(ids) > 0 || len(drops) > 0 {
		n, d := min(len(ids), liveBatch), min(len(drops), liveBatch)
		l.write1(ids[:n], drops[:d])
		ids, drops = ids[n:], drops[d:]
	}
}

// write1 writes one batch. On failure the sockets are written again at
// the next flush, and the drops retried.
func (l *liveSessions) write1(ids, drops []string) {
	l.a.persisting.Lock()
	defer l.a.persisting.Unlock()
	entries := make([]*liveEntry, 0, len(ids))
	snaps := make([]func() (sockio.Session, bool), 0, len(ids))
	l.mu.Lock()
	for _, id := range ids {
		e := l.tracked[id]
		if e == nil {
			continue
		}
		e.dirty = false
		entries = append(entries, e)
		snaps = append(snaps, e.snap)
	}
	l.mu.Unlock()
	// The snapshots are taken outside l.mu: they lock the socket and the
	// adapter's rooms.
	keep := make([]sockio.Session, 0, len(ids))
	kept := make([]*liveEntry, 0, len(ids))
	for i, snap := range snaps {
		s, ok := snap()
		if !ok {
			// Disconnecting: its PersistSession or SessionEnded follows.
			// One never written has nothing in the store to clean.
			l.mu.Lock()
			if entries[i].pid == "" {
				l.forgetLocked(ids, entries[i])
			}
			l.mu.Unlock()
			continue
		}
		keep = append(keep, s)
		kept = append(kept, entries[i])
	}
	if len(keep) == 0 && len(drops) == 0 {
		return
	}
	a := l.a
	ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.RequestsTimeout)
	err := persistSessions(ctx, a.c.store, a.name, keep, l.ttl, drops)
	cancel()
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		a.c.sessionsNotKept.add("nsp", a.name, "sessions", len(keep), "dropped", len(drops), "err", err)
		for i, e := range kept {
			if !e.dirty && l.tracked[keep[i].SID] == e {
				e.dirty = true
				l.dirty = append(l.dirty, keep[i].SID)
			}
		}
		if !l.closed {
			l.drops = append(l.drops, drops...)
		}
		return
	}
	for i, e := range kept {
		if l.tracked[keep[i].SID] != e && e.pid == "" {
			// Ended while its first snapshot was written: that must go too.
			l.drops = append(l.drops, keep[i].PID)
		}
		e.pid, e.written = keep[i].PID, now
	}
}

// forgetLocked removes entry e, wherever it is in tracked.
func (l *liveSessions) forgetLocked(ids []string, e *liveEntry) {
	for _, id := range ids {
		if l.tracked[id] == e {
			delete(l.tracked, id)
			return
		}
	}
}
