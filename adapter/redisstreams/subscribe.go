package redisstreams

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/cluster"
)

// queueSize bounds the messages waiting for one Handler; the stream
// reader waits when it is full (the stream keeps the rest), Pub/Sub
// delivery waits too, within go-redis' own channel buffer.
const queueSize = 256

type delivery struct {
	m        *cluster.Message
	offset   string
	response bool
}

// subscription is one namespace of one node: its Pub/Sub channels and the
// goroutine that calls its Handler in delivery order.
type subscription struct {
	b    *Broker
	nsp  string
	uid  string
	h    cluster.Handler
	q    chan delivery
	done chan struct{}
	wg   sync.WaitGroup
	ps   []*redis.PubSub
	once sync.Once
}

// Subscribe subscribes to the Pub/Sub channels of nsp (public, and the
// private one of uid), starts the stream reader if it is not running, and
// returns once both are active.
func (b *Broker) Subscribe(ctx context.Context, nsp, uid string, h cluster.Handler) (cluster.Subscription, error) {
	s := &subscription{b: b, nsp: nsp, uid: uid, h: h,
		q: make(chan delivery, queueSize), done: make(chan struct{})}
	pub, priv := publicChannel(&b.opts, nsp), privateChannel(&b.opts, nsp, uid)
	var err error
	if b.opts.UseShardedPubSub {
		// One connection per channel: in a Redis Cluster the two may
		// live on different shards.
		for _, ch := range []string{pub, priv} {
			var ps *redis.PubSub
			if ps, err = subscribeConfirmed(ctx, b.rdb.SSubscribe(ctx, ch), 1); err != nil {
				break
			}
			s.ps = append(s.ps, ps)
		}
	} else {
		var ps *redis.PubSub
		if ps, err = subscribeConfirmed(ctx, b.rdb.Subscribe(ctx, pub, priv), 2); err == nil {
			s.ps = append(s.ps, ps)
		}
	}
	if err != nil {
		s.closePubSubs()
		return nil, fmt.Errorf("redisstreams: subscribing to %q: %w", nsp, err)
	}

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		s.closePubSubs()
		return nil, ErrClosed
	}
	r := b.reader
	if r == nil {
		r = newReader(b)
		b.reader = r
	}
	b.subs[nsp] = append(b.subs[nsp], s)
	b.mu.Unlock()

	s.wg.Add(1 + len(s.ps))
	go s.run()
	for _, ps := range s.ps {
		go s.receive(ps, priv)
	}
	// The reader is positioned at the stream's end before Subscribe
	// returns, so that nothing published afterwards is missed.
	if err := r.waitStarted(ctx); err != nil {
		_ = s.Cancel()
		return nil, fmt.Errorf("redisstreams: subscribing to %q: %w", nsp, err)
	}
	return s, nil
}

// subscribeConfirmed waits for Redis to confirm n subscriptions.
func subscribeConfirmed(ctx context.Context, ps *redis.PubSub, n int) (*redis.PubSub, error) {
	for i := 0; i < n; {
		msg, err := ps.Receive(ctx)
		if err != nil {
			_ = ps.Close()
			return nil, err
		}
		if _, ok := msg.(*redis.Subscription); ok {
			i++
		}
	}
	return ps, nil
}

// Cancel unsubscribes, and stops the reader after the last subscription.
// It waits for a Handler call in progress: do not call it from a Handler.
func (s *subscription) Cancel() error {
	s.once.Do(func() {
		b := s.b
		b.mu.Lock()
		list := b.subs[s.nsp]
		for i, x := range list {
			if x == s {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(b.subs, s.nsp)
		} else {
			b.subs[s.nsp] = list
		}
		var stop *reader
		if len(b.subs) == 0 && b.reader != nil {
			stop, b.reader = b.reader, nil
		}
		b.mu.Unlock()
		close(s.done)
		s.closePubSubs()
		if stop != nil {
			stop.stop()
		}
		s.wg.Wait()
	})
	return nil
}

func (s *subscription) closePubSubs() {
	for _, ps := range s.ps {
		_ = ps.Close()
	}
}

// deliver queues d for the Handler, waiting while the queue is full; false
// once the subscription is cancelled.
func (s *subscription) deliver(d delivery) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case s.q <- d:
		return true
	case <-s.done:
		return false
	}
}

func (s *subscription) run() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case d := <-s.q:
			select {
			case <-s.done:
				return
			default:
			}
			s.b.c.delivered.Add(1)
			if d.response {
				s.h.HandleResponse(d.m)
			} else {
				s.h.HandleMessage(d.m, d.offset)
			}
		}
	}
}

// receive decodes the Pub/Sub messages of ps until it is closed.
func (s *subscription) receive(ps *redis.PubSub, private string) {
	defer s.wg.Done()
	for msg := range ps.Channel() {
		m, err := decodePayload([]byte(msg.Payload))
		if err != nil {
			s.b.malformed(err, "channel", msg.Channel)
			continue
		}
		if m.NSP != s.nsp {
			continue
		}
		if !s.deliver(delivery{m: m, response: msg.Channel == private}) {
			return
		}
	}
}

func (b *Broker) malformed(err error, where ...any) {
	n := b.c.malformed.Add(1)
	// Logged with a bound: a hostile peer must not flood the log.
	if n <= 10 || n&(n-1) == 0 {
		b.opts.Logger.Warn("redisstreams: malformed message ignored",
			append(where, "count", n, "err", err)...)
	}
}
