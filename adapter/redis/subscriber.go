package redis

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscriber owns the Pub/Sub connections of a run. Subscriptions are
// changed by a reconcile goroutine from the wanted set, so that creating a
// namespace or a room never waits for Redis; go-redis resubscribes by
// itself after a reconnection, and each lane's receive goroutine reports
// its connection's state changes.
//
// There is one lane (one go-redis PubSub, one connection) in general. In
// sharded mode on a Redis Cluster there is one lane per hash slot in use:
// go-redis sends all the shard channels of a PubSub in one SSUBSCRIBE,
// which a cluster refuses unless they share a slot.
type subscriber struct {
	r       *run
	perSlot bool

	mu      sync.Mutex
	wanted  map[sub]int // reference counts
	lanes   map[int]*lane
	changed chan struct{} // closed and replaced when a confirmation changes
	closed  bool

	kick chan struct{}
}

// lane is one PubSub connection and what it is subscribed to.
type lane struct {
	key       int
	ps        *redis.PubSub
	have      map[sub]struct{} // what the PubSub was told
	confirmed map[sub]struct{} // what Redis confirmed on this connection
	running   bool             // its receive goroutine started
	closed    bool             // given up (no subscription left)
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
	subTimeout = 5 * time.Second
)

func newSubscriber(r *run) *subscriber {
	_, cluster := r.h.client.(*redis.ClusterClient)
	return &subscriber{
		r:       r,
		perSlot: cluster && r.h.opts.Sharded,
		wanted:  make(map[sub]int),
		lanes:   make(map[int]*lane),
		changed: make(chan struct{}),
		kick:    make(chan struct{}, 1),
	}
}

func (s *subscriber) laneKey(k sub) int {
	if s.perSlot && k.kind == subShard {
		return hashSlot(k.name)
	}
	return -1
}

func (s *subscriber) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// wants reports, for each message, whether this node wants the
// subscription through which it would get it.
func (s *subscriber) wants(batch []outMsg) []bool {
	out := make([]bool, len(batch))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range batch {
		_, out[i] = s.wanted[m.via]
	}
	return out
}

func (s *subscriber) want(k sub, delta int) {
	s.mu.Lock()
	if n := s.wanted[k] + delta; n > 0 {
		s.wanted[k] = n
	} else {
		delete(s.wanted, k)
	}
	s.mu.Unlock()
	s.poke()
}

// close ends the run's subscriptions: its context, then every PubSub.
func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	var pss []*redis.PubSub
	for _, l := range s.lanes {
		pss = append(pss, l.ps)
	}
	s.mu.Unlock()
	s.r.cancel()
	for _, ps := range pss {
		_ = ps.Close()
	}
}

type laneChange struct {
	l        *lane
	ps       *redis.PubSub
	add, del [3][]string
	start    bool
	drop     bool
}

// reconcile brings the lanes' subscriptions to the wanted set.
func (s *subscriber) reconcile() {
	defer s.r.wg.Done()
	for {
		select {
		case <-s.r.ctx.Done():
			return
		case <-s.kick:
		}
		for _, c := range s.plan() {
			s.apply(c)
		}
	}
}

// plan computes, under the lock, what each lane must subscribe to or
// drop, creating the lanes needed and marking the ones no longer needed.
func (s *subscriber) plan() []*laneChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	changes := map[int]*laneChange{}
	change := func(l *lane) *laneChange {
		c := changes[l.key]
		if c == nil {
			c = &laneChange{l: l, ps: l.ps}
			changes[l.key] = c
		}
		return c
	}
	for k := range s.wanted {
		key := s.laneKey(k)
		l := s.lanes[key]
		if l == nil {
			l = &lane{key: key, ps: s.r.h.client.Subscribe(s.r.ctx), have: map[sub]struct{}{}, confirmed: map[sub]struct{}{}}
			s.lanes[key] = l
		}
		if _, ok := l.have[k]; !ok {
			c := change(l)
			c.add[k.kind] = append(c.add[k.kind], k.name)
			l.have[k] = struct{}{}
		}
	}
	for _, l := range s.lanes {
		for k := range l.have {
			if _, ok := s.wanted[k]; !ok {
				c := change(l)
				c.del[k.kind] = append(c.del[k.kind], k.name)
				delete(l.have, k)
				delete(l.confirmed, k)
			}
		}
		if len(l.have) == 0 && l.key >= 0 {
			// A slot's lane with nothing left: close it (the shared lane
			// of the other cases stays).
			c := change(l)
			c.drop = true
			l.closed = true
			delete(s.lanes, l.key)
		} else if !l.running {
			change(l).start = true
			l.running = true
		}
	}
	out := make([]*laneChange, 0, len(changes))
	for _, c := range changes {
		out = append(out, c)
	}
	return out
}

// apply sends a lane's changes to Redis (go-redis remembers a
// subscription even when the command fails, and sends it again on
// reconnection), then starts its receive goroutine if it is new: only
// now, so that the lane's first connection goes to the right shard.
func (s *subscriber) apply(c *laneChange) {
	if c.drop {
		_ = c.ps.Close()
		return
	}
	ctx, cancel := context.WithTimeout(s.r.ctx, subTimeout)
	defer cancel()
	// Patterns before channels, as the reference: a node counted on the
	// request channel (ServerCount) already gets broadcasts.
	if names := c.add[subPattern]; len(names) > 0 {
		_ = c.ps.PSubscribe(ctx, names...)
	}
	if names := c.add[subShard]; len(names) > 0 {
		_ = c.ps.SSubscribe(ctx, names...)
	}
	if names := c.add[subChannel]; len(names) > 0 {
		_ = c.ps.Subscribe(ctx, names...)
	}
	if names := c.del[subPattern]; len(names) > 0 {
		_ = c.ps.PUnsubscribe(ctx, names...)
	}
	if names := c.del[subShard]; len(names) > 0 {
		_ = c.ps.SUnsubscribe(ctx, names...)
	}
	if names := c.del[subChannel]; len(names) > 0 {
		_ = c.ps.Unsubscribe(ctx, names...)
	}
	if c.start {
		s.r.wg.Add(1) // from a goroutine counted in wg: never races Wait
		go s.receive(c.l)
	}
}

// replace swaps in a new PubSub for a lane whose connection stopped
// answering, subscribed to what the lane had.
func (s *subscriber) replace(l *lane) {
	s.mu.Lock()
	if s.closed || l.closed {
		s.mu.Unlock()
		return
	}
	old := l.ps
	ps := s.r.h.client.Subscribe(s.r.ctx)
	var names [3][]string
	for k := range l.have {
		names[k.kind] = append(names[k.kind], k.name)
	}
	l.ps = ps
	s.unconfirmLocked(l)
	s.mu.Unlock()
	_ = old.Close()
	s.apply(&laneChange{l: l, ps: ps, add: names})
	s.poke()
}

func (s *subscriber) unconfirmLocked(l *lane) {
	if len(l.confirmed) > 0 {
		clear(l.confirmed)
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

func (s *subscriber) confirm(l *lane, m *redis.Subscription) {
	var k sub
	on := true
	switch m.Kind {
	case "subscribe":
		k = sub{subChannel, m.Channel}
	case "psubscribe":
		k = sub{subPattern, m.Channel}
	case "ssubscribe":
		k = sub{subShard, m.Channel}
	case "unsubscribe":
		k, on = sub{subChannel, m.Channel}, false
	case "punsubscribe":
		k, on = sub{subPattern, m.Channel}, false
	case "sunsubscribe":
		k, on = sub{subShard, m.Channel}, false
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, have := l.have[k]; on && !have {
		return // confirmation of something given up since
	}
	if on {
		l.confirmed[k] = struct{}{}
	} else {
		delete(l.confirmed, k)
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitConfirmed waits until Redis confirmed every subscription in keys.
func (s *subscriber) waitConfirmed(ctx context.Context, keys []sub) error {
	for {
		s.mu.Lock()
		all := true
		for _, k := range keys {
			l := s.lanes[s.laneKey(k)]
			if l == nil {
				all = false
				break
			}
			if _, ok := l.confirmed[k]; !ok {
				all = false
				break
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if all {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.r.ctx.Done():
			return errClosed
		}
	}
}

func (s *subscriber) laneState(l *lane) (*redis.PubSub, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return l.ps, l.closed
}

// receive reads a lane's PubSub: messages go to dispatch, confirmations
// to the confirmed set. It logs when the connection is lost and when it
// is back (with how long the lane was deaf, counted in Stats), pings a
// silent connection and replaces one that does not answer.
func (s *subscriber) receive(l *lane) {
	defer s.r.wg.Done()
	log := s.r.h.log
	if l.key >= 0 {
		log = log.With(slog.Int("slot", l.key))
	}
	interval := s.r.h.opts.HealthCheckInterval
	backoff := minBackoff
	lost, everUp, pinged := false, false, false
	// deafSince: when the lane stopped hearing (zero while it hears). A
	// deaf lane counts as a disturbance of Redis for the publisher.
	var deafSince time.Time
	deaf := func() {
		if deafSince.IsZero() {
			deafSince = time.Now()
			s.r.lostLanes.Add(1)
		}
	}
	defer func() {
		if !deafSince.IsZero() {
			s.r.lostLanes.Add(-1)
		}
	}()
	for {
		ps, closed := s.laneState(l)
		if closed {
			return
		}
		msg, err := ps.ReceiveTimeout(s.r.ctx, interval)
		if s.r.ctx.Err() != nil {
			return
		}
		if err != nil {
			if _, closed := s.laneState(l); closed {
				return
			}
			if isTimeout(err) && !lost {
				if pinged {
					log.Warn("redis adapter: subscriber connection silent; reconnecting")
					deaf()
					s.replace(l)
					pinged = false
					continue
				}
				ctx, cancel := context.WithTimeout(s.r.ctx, subTimeout)
				perr := ps.Ping(ctx)
				cancel()
				if perr == nil {
					pinged = true
					continue
				}
				err = perr
			}
			if !lost {
				lost = true
				deaf()
				s.mu.Lock()
				s.unconfirmLocked(l)
				s.mu.Unlock()
				if everUp {
					log.Warn("redis adapter: subscriber connection to Redis lost; local delivery goes on", "err", err)
				} else {
					log.Warn("redis adapter: cannot reach Redis; retrying", "err", err)
				}
			}
			pinged = false
			if !sleepCtx(s.r.ctx, backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff, pinged = minBackoff, false
		switch m := msg.(type) {
		case *redis.Message:
			s.r.dispatch(m)
		case *redis.Subscription:
			// go-redis resubscribes everything as soon as it has a
			// connection: the first confirmation ends the gap.
			if !deafSince.IsZero() {
				d := time.Since(deafSince)
				deafSince = time.Time{}
				s.r.lostLanes.Add(-1)
				s.r.disturb()
				switch {
				case !everUp:
					log.Info("redis adapter: connected to Redis")
				case lost:
					s.r.h.stats.gaps.Add(1)
					s.r.h.stats.deafNanos.Add(int64(d))
					log.Warn("redis adapter: Redis is back; resubscribed", "deaf", d.Round(time.Millisecond),
						"gaps", s.r.h.stats.gaps.Load())
				default:
					s.r.h.stats.gaps.Add(1)
					s.r.h.stats.deafNanos.Add(int64(d))
					log.Warn("redis adapter: subscriber replaced; resubscribed", "deaf", d.Round(time.Millisecond),
						"gaps", s.r.h.stats.gaps.Load())
				}
			}
			lost = false
			everUp = true
			s.confirm(l, m)
		case *redis.Pong:
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hashSlot is Redis Cluster's slot of a key: CRC16 (XMODEM) of the key, or
// of its hash tag (the part between the first { and the next }, when not
// empty), modulo 16384.
func hashSlot(key string) int {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j > i+1 {
						key = key[i+1 : j]
					}
					break
				}
			}
			break
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
