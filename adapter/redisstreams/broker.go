package redisstreams

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/cluster"
)

// Broker carries cluster messages over Redis Streams and Pub/Sub. It
// implements cluster.Broker, cluster.Log and cluster.SessionStore. Make it
// with NewBroker; Close it when its servers are closed.
type Broker struct {
	rdb  redis.UniversalClient
	opts Options
	c    counters

	// downUntil (unix ns) makes publishes fail at once after a failure.
	downUntil atomic.Int64

	mu     sync.Mutex
	subs   map[string][]*subscription // by namespace
	reader *reader                    // while subs is not empty
	closed bool
}

var (
	_ cluster.Broker            = (*Broker)(nil)
	_ cluster.Log               = (*Broker)(nil)
	_ cluster.SessionStore      = (*Broker)(nil)
	_ cluster.SessionBatchStore = (*Broker)(nil)
)

// ErrClosed is returned by the methods of a closed Broker.
var ErrClosed = errors.New("redisstreams: broker closed")

// errDown is returned by a publish while Redis recently failed.
var errDown = errors.New("redisstreams: Redis unavailable, message dropped")

// NewBroker returns a Broker over rdb. Nothing is read from Redis until
// the first Subscribe.
func NewBroker(rdb redis.UniversalClient, opts Options) *Broker {
	return &Broker{rdb: rdb, opts: opts.withDefaults(), subs: map[string][]*subscription{}}
}

// Stats returns the Broker's counters.
func (b *Broker) Stats() Stats { return b.c.snapshot() }

// Close cancels every subscription and stops the reader. It does not
// close rdb.
func (b *Broker) Close() error {
	b.mu.Lock()
	b.closed = true
	var all []*subscription
	for _, s := range b.subs {
		all = append(all, s...)
	}
	b.mu.Unlock()
	for _, s := range all {
		_ = s.Cancel()
	}
	return nil
}

// Publish sends m to the nodes of m.NSP: on the stream (returning the
// entry id, the recovery offset) or, for ephemeral messages, on the
// namespace's Pub/Sub channel (returning "").
func (b *Broker) Publish(ctx context.Context, m *cluster.Message) (string, error) {
	if isEphemeral(m) {
		p, err := encodePayload(m)
		if err != nil {
			b.c.notPublished.Add(1)
			return "", err
		}
		return "", b.publish(ctx, publicChannel(&b.opts, m.NSP), p, m)
	}
	fields, err := encodeEntry(m, b.opts.OnlyPlaintext)
	if err != nil {
		b.c.notPublished.Add(1)
		return "", err
	}
	var id string
	err = b.guard(ctx, m, func(ctx context.Context) error {
		var err error
		id, err = b.rdb.XAdd(ctx, &redis.XAddArgs{
			Stream: streamFor(&b.opts, m.NSP),
			MaxLen: b.opts.MaxLen,
			Approx: true,
			Values: fields,
		}).Result()
		return err
	})
	return id, err
}

// PublishResponse sends m on the Pub/Sub channel of node uid.
func (b *Broker) PublishResponse(ctx context.Context, uid string, m *cluster.Message) error {
	p, err := encodePayload(m)
	if err != nil {
		b.c.notPublished.Add(1)
		return err
	}
	return b.publish(ctx, privateChannel(&b.opts, m.NSP, uid), p, m)
}

func (b *Broker) publish(ctx context.Context, channel string, p []byte, m *cluster.Message) error {
	return b.guard(ctx, m, func(ctx context.Context) error {
		if b.opts.UseShardedPubSub {
			return b.rdb.SPublish(ctx, channel, p).Err()
		}
		return b.rdb.Publish(ctx, channel, p).Err()
	})
}

// guard runs one publish within PublishTimeout, or fails at once while
// Redis recently failed: a broadcast must not wait for a dead Redis.
func (b *Broker) guard(ctx context.Context, m *cluster.Message, do func(context.Context) error) error {
	if time.Now().UnixNano() < b.downUntil.Load() {
		b.c.notPublished.Add(1)
		return fmt.Errorf("redisstreams: publishing type %d in %q: %w", m.Type, m.NSP, errDown)
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.PublishTimeout)
	defer cancel()
	if err := do(ctx); err != nil {
		b.downUntil.Store(time.Now().Add(b.opts.RetryAfter).UnixNano())
		b.c.notPublished.Add(1)
		b.opts.Logger.Warn("redisstreams: publish failed, message dropped",
			"nsp", m.NSP, "type", int(m.Type), "err", err)
		return fmt.Errorf("redisstreams: publishing type %d in %q: %w", m.Type, m.NSP, err)
	}
	b.downUntil.Store(0)
	b.c.published.Add(1)
	return nil
}
