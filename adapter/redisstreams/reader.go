package redisstreams

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// reader is the one XREAD BLOCK loop of a Broker: it reads every stream
// of the cluster and dispatches each entry to the subscriptions of its
// namespace. It keeps the last id seen per stream and resumes from it
// after any error, so an outage loses nothing the stream still holds and
// delivers nothing twice.
type reader struct {
	b       *Broker
	ctx     context.Context
	cancel  context.CancelFunc
	lanes   []*lane
	started chan struct{} // closed when every lane is positioned
	wg      sync.WaitGroup
}

// lane is one XREAD loop over some streams. With a single-node client one
// lane reads all the streams on one dedicated connection; a Redis Cluster
// cannot XREAD keys of different slots at once, so there every stream has
// its own lane, as the reference has one client per stream.
type lane struct {
	r       *reader
	streams []string
	ids     []string // the last id read, per stream
	added   []int64  // the entries-added count at that id, per stream
	ready   chan struct{}

	mu       sync.Mutex
	clientID int64 // of the dedicated connection, for CLIENT UNBLOCK
}

func streamNames(o *Options) []string {
	if o.StreamCount == 1 {
		return []string{o.StreamName}
	}
	// The reference's remainder keeps the hash's sign: indexes run from
	// -(count-1) to count-1.
	var names []string
	for i := -(o.StreamCount - 1); i < o.StreamCount; i++ {
		names = append(names, o.StreamName+"-"+strconv.Itoa(i))
	}
	return names
}

func newReader(b *Broker) *reader {
	ctx, cancel := context.WithCancel(context.Background())
	r := &reader{b: b, ctx: ctx, cancel: cancel, started: make(chan struct{})}
	names := streamNames(&b.opts)
	if _, single := b.rdb.(*redis.Client); single {
		r.lanes = []*lane{{r: r, streams: names}}
	} else {
		for _, n := range names {
			r.lanes = append(r.lanes, &lane{r: r, streams: []string{n}})
		}
	}
	r.wg.Add(len(r.lanes))
	for _, l := range r.lanes {
		l.ready = make(chan struct{})
		go l.run()
	}
	go func() {
		for _, l := range r.lanes {
			select {
			case <-l.ready:
			case <-ctx.Done():
				return
			}
		}
		close(r.started)
	}()
	return r
}

func (r *reader) waitStarted(ctx context.Context) error {
	select {
	case <-r.started:
		return nil
	case <-r.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the loop without waiting for XREAD's BLOCK to time out: it
// unblocks the dedicated connection until the lanes are gone.
func (r *reader) stop() {
	r.cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		for _, l := range r.lanes {
			l.unblock()
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

func (l *lane) unblock() {
	l.mu.Lock()
	id := l.clientID
	l.mu.Unlock()
	if id == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = l.r.b.rdb.ClientUnblock(ctx, id).Err()
}

func (l *lane) run() {
	defer l.r.wg.Done()
	b, ctx := l.r.b, l.r.ctx
	var conn *redis.Conn
	var rc redis.Cmdable = b.rdb
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	backoff := 50 * time.Millisecond
	failing := false
	checkGaps := false
	for ctx.Err() == nil {
		err := func() error {
			if cl, ok := b.rdb.(*redis.Client); ok && conn == nil {
				conn = cl.Conn()
				id, err := conn.ClientID(ctx).Result()
				if err != nil {
					return err
				}
				l.mu.Lock()
				l.clientID = id
				l.mu.Unlock()
				rc = conn
			}
			if l.ids == nil {
				if err := l.position(ctx, rc); err != nil {
					return err
				}
				close(l.ready)
			}
			if checkGaps {
				if err := l.checkGaps(ctx, rc); err != nil {
					return err
				}
				checkGaps = false
			}
			args := make([]string, 0, 2*len(l.streams))
			args = append(append(args, l.streams...), l.ids...)
			res, err := rc.XRead(ctx, &redis.XReadArgs{Streams: args, Count: b.opts.ReadCount, Block: b.opts.BlockTime}).Result()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			if err != nil {
				return err
			}
			for _, st := range res {
				i := l.index(st.Stream)
				if i < 0 {
					continue
				}
				for _, e := range st.Messages {
					l.ids[i] = e.ID
					l.added[i]++
					if b.dispatch(e) {
						checkGaps = true // held up by a handler: maybe behind the trimming
					}
				}
				// A full batch: the reader may be behind the trimming.
				if int64(len(st.Messages)) >= b.opts.ReadCount {
					checkGaps = true
				}
			}
			return nil
		}()
		if err == nil {
			if failing {
				b.opts.Logger.Info("redisstreams: reading the stream again", "streams", l.streams, "from", l.ids)
				failing = false
			}
			backoff = 50 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			return
		}
		b.c.readErrors.Add(1)
		if !failing {
			b.opts.Logger.Warn("redisstreams: reading the stream failed, retrying from the last id",
				"streams", l.streams, "from", l.ids, "err", err)
			failing = true
		}
		// The sticky connection is unusable after an error: a new one.
		if conn != nil {
			_ = conn.Close()
			conn = nil
			l.mu.Lock()
			l.clientID = 0
			l.mu.Unlock()
		}
		checkGaps = l.ids != nil
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (l *lane) index(stream string) int {
	for i, s := range l.streams {
		if s == stream {
			return i
		}
	}
	return -1
}

// position starts each stream at its end: what was published before the
// first Subscribe is not this node's business. It also notes how many
// entries the stream ever had (Redis 7's entries-added), the base of the
// gap check.
func (l *lane) position(ctx context.Context, rc redis.Cmdable) error {
	ids := make([]string, len(l.streams))
	added := make([]int64, len(l.streams))
	for i, s := range l.streams {
		ids[i] = "0-0"
		info, err := rc.XInfoStream(ctx, s).Result()
		if isNoSuchKey(err) {
			continue
		}
		if err != nil {
			return err
		}
		ids[i], added[i] = info.LastGeneratedID, info.EntriesAdded
	}
	l.ids, l.added = ids, added
	return nil
}

// checkGaps tells whether entries after the last id read were trimmed (or
// lost with a Redis that restarted without persistence) before the reader
// could read them: counted and logged, since nothing brings them back.
// Trimming takes the oldest entries first, so entries were lost exactly
// when the stream's first entry is past the last id read and the stream
// holds fewer entries than were added since. Needs Redis 7 (entries-added);
// older versions report nothing.
func (l *lane) checkGaps(ctx context.Context, rc redis.Cmdable) error {
	b := l.r.b
	for i, s := range l.streams {
		last, ok := parseID(l.ids[i])
		if !ok {
			continue
		}
		info, err := rc.XInfoStream(ctx, s).Result()
		if isNoSuchKey(err) {
			l.added[i] = 0 // gone: counting starts again with the stream
			continue
		}
		if err != nil {
			return err
		}
		if info.EntriesAdded == 0 {
			continue // before Redis 7
		}
		first, ok := parseID(info.FirstEntry.ID)
		if info.Length == 0 {
			first, ok = parseID(info.LastGeneratedID)
			first = first.next()
		}
		if !ok || !last.less(first) {
			continue // the entries after the last id read are all there
		}
		unread := info.EntriesAdded - l.added[i] // added after the last id read
		if unread < 0 {
			unread = info.EntriesAdded // the stream was made again
		}
		if lost := unread - info.Length; lost > 0 {
			b.c.gaps.Add(1)
			b.opts.Logger.Error("redisstreams: the stream was trimmed past the reader, entries lost",
				"stream", s, "last_read", l.ids[i], "first_kept", info.FirstEntry.ID, "lost", lost)
		}
		l.added[i] = info.EntriesAdded - info.Length
	}
	return nil
}

func isNoSuchKey(err error) bool {
	return err != nil && (err.Error() == "ERR no such key")
}

// dispatch decodes one entry and queues it for the subscriptions of its
// namespace. It reports whether it had to wait for a full queue.
func (b *Broker) dispatch(e redis.XMessage) (waited bool) {
	m, ok, err := decodeEntry(e.Values)
	if !ok {
		return false
	}
	if err != nil {
		b.malformed(err, "entry", e.ID)
		return false
	}
	b.mu.Lock()
	subs := append([]*subscription(nil), b.subs[m.NSP]...)
	b.mu.Unlock()
	for _, s := range subs {
		d := delivery{m: m, offset: e.ID}
		select {
		case s.q <- d:
		default:
			waited = true
			s.deliver(d)
		}
	}
	return waited
}
