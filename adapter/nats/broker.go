package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio/adapter/cluster"
)

// Broker is a cluster.Broker over core NATS. With Options.Recovery,
// NewBroker returns a *RecoveringBroker instead, which adds the JetStream
// log and session store.
type Broker struct {
	nc   *natsgo.Conn
	opts Options
	err  error // invalid options: every call fails with it
	log  *slog.Logger
	c    counters

	mu   sync.Mutex
	subs map[*subscription]struct{}

	statusCh  chan natsgo.Status
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	warnAt atomic.Int64 // unix nanos of the last rate-limited warning

	// Set on a RecoveringBroker only.
	js     jetstream.JetStream
	stores *stores
}

var _ cluster.Broker = (*Broker)(nil)

// NewBroker returns a broker on nc; a *RecoveringBroker (which also
// implements cluster.Log and cluster.SessionStore) when opts.Recovery.Window
// is set, a *Broker otherwise. It does no I/O: the stream and the bucket
// are created or updated on first use. nc stays the caller's; the broker's
// goroutines end when nc is closed or Close is called.
func NewBroker(nc *natsgo.Conn, opts Options) cluster.Broker {
	b := newBroker(nc, opts)
	if opts.Recovery.Window <= 0 {
		return b
	}
	return newRecovering(b)
}

func newBroker(nc *natsgo.Conn, opts Options) *Broker {
	opts = opts.withDefaults()
	b := &Broker{nc: nc, opts: opts, log: opts.Logger, subs: map[*subscription]struct{}{}, done: make(chan struct{})}
	if nc == nil {
		b.err = errors.New("nats adapter: nil connection")
		return b
	}
	b.err = checkPrefix(opts.Prefix)
	b.statusCh = nc.StatusChanged(natsgo.CONNECTED, natsgo.DISCONNECTED, natsgo.RECONNECTING, natsgo.CLOSED)
	b.wg.Add(1)
	go b.watch()
	return b
}

// Close stops the broker's watch of the connection; subscriptions are
// cancelled by their owners. The connection stays open.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		close(b.done)
		if b.nc != nil {
			b.nc.RemoveStatusListener(b.statusCh)
		}
	})
	b.wg.Wait()
	return nil
}

// watch logs the times the node could not hear the cluster: from the loss
// of the connection to its return.
func (b *Broker) watch() {
	defer b.wg.Done()
	var since time.Time
	for {
		select {
		case <-b.done:
			return
		case st, ok := <-b.statusCh:
			if !ok {
				return
			}
			switch st {
			case natsgo.DISCONNECTED, natsgo.RECONNECTING:
				if since.IsZero() {
					since = time.Now()
					b.c.disconnects.Add(1)
					b.log.Warn("nats adapter: disconnected, the node is deaf to the cluster until it reconnects")
				}
			case natsgo.CONNECTED:
				if !since.IsZero() {
					d := time.Since(since)
					b.c.deafNanos.Add(int64(d))
					b.log.Warn("nats adapter: reconnected", "deaf", d, "server", b.nc.ConnectedUrlRedacted())
					since = time.Time{}
				}
			case natsgo.CLOSED:
				return
			}
		}
	}
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	s := Stats{
		Published:    b.c.published.Load(),
		Delivered:    b.c.delivered.Load(),
		NotPublished: b.c.notPublished.Load(),
		Malformed:    b.c.malformed.Load(),
		Disconnects:  b.c.disconnects.Load(),
		Deaf:         time.Duration(b.c.deafNanos.Load()),
	}
	b.mu.Lock()
	for s2 := range b.subs {
		s.SlowDropped += s2.dropped()
	}
	b.mu.Unlock()
	return s
}

// warn logs at most once a second, so that a flood of bad messages does not
// flood the log; the counters keep the full count.
func (b *Broker) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := b.warnAt.Load()
	if now-last < int64(time.Second) || !b.warnAt.CompareAndSwap(last, now) {
		return
	}
	b.log.Warn(msg, args...)
}

// Subscribe implements cluster.Broker.
func (b *Broker) Subscribe(ctx context.Context, nsp, uid string, h cluster.Handler) (cluster.Subscription, error) {
	if b.err != nil {
		return nil, b.err
	}
	sj := newSubjects(b.opts.Prefix, nsp)
	s := &subscription{b: b, h: h}
	ok := false
	defer func() {
		if !ok {
			_ = s.Cancel()
		}
	}()
	if err := s.addCore(sj.response(uid), s.onResponse); err != nil {
		return nil, err
	}
	if err := s.addCore(sj.heartbeat, s.onCore); err != nil {
		return nil, err
	}
	if b.js != nil {
		if err := s.consume(ctx, sj.nsp); err != nil {
			return nil, err
		}
		// The bucket is made now, not when a node goes down with
		// sessions to keep.
		if _, err := b.stores.bucket(ctx); err != nil {
			return nil, err
		}
	} else if err := s.addCore(sj.nsp, s.onCore); err != nil {
		return nil, err
	}
	// Once the server has the subscriptions, a message published after
	// Subscribe returns reaches them.
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return nil, fmt.Errorf("nats adapter: subscribe to %s: flush: %w", sj.nsp, err)
	}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	ok = true
	return s, nil
}

// Publish implements cluster.Broker. Heartbeats go on core NATS; other
// messages on core NATS too without recovery, through JetStream with it
// (the offset is the stream sequence).
func (b *Broker) Publish(ctx context.Context, m *cluster.Message) (string, error) {
	if b.err != nil {
		return "", b.err
	}
	data, err := encodeMessage(m)
	if err != nil {
		b.c.notPublished.Add(1)
		return "", err
	}
	sj := newSubjects(b.opts.Prefix, m.NSP)
	switch {
	case isHeartbeat(m.Type):
		return "", b.publishCore(sj.heartbeat, data)
	case b.js != nil:
		return b.publishLog(ctx, sj.nsp, data)
	}
	return "", b.publishCore(sj.nsp, data)
}

// PublishResponse implements cluster.Broker: the response goes to node
// uid's subject only.
func (b *Broker) PublishResponse(_ context.Context, uid string, m *cluster.Message) error {
	if b.err != nil {
		return b.err
	}
	data, err := encodeMessage(m)
	if err != nil {
		b.c.notPublished.Add(1)
		return err
	}
	return b.publishCore(newSubjects(b.opts.Prefix, m.NSP).response(uid), data)
}

func isHeartbeat(t cluster.MessageType) bool {
	return t == cluster.InitialHeartbeat || t == cluster.Heartbeat || t == cluster.AdapterClose
}

// publishCore never blocks: while the connection is down nats.go queues
// into its bounded reconnect buffer and fails past it.
func (b *Broker) publishCore(subject string, data []byte) error {
	if err := b.nc.Publish(subject, data); err != nil {
		b.c.notPublished.Add(1)
		b.warn("nats adapter: message dropped", "subject", subject, "err", err, "dropped", b.c.notPublished.Load())
		return fmt.Errorf("nats adapter: publish on %s: %w", subject, err)
	}
	b.c.published.Add(1)
	return nil
}

// publishLog publishes through JetStream and waits for the stored
// sequence, at most PublishTimeout; with the connection down it fails at
// once rather than wait for a reconnect.
func (b *Broker) publishLog(ctx context.Context, subject string, data []byte) (string, error) {
	if !b.nc.IsConnected() {
		b.c.notPublished.Add(1)
		b.warn("nats adapter: message dropped, not connected", "subject", subject, "dropped", b.c.notPublished.Load())
		return "", fmt.Errorf("nats adapter: publish on %s: %w", subject, natsgo.ErrDisconnected)
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.PublishTimeout)
	defer cancel()
	if _, err := b.stores.stream(ctx); err != nil {
		b.c.notPublished.Add(1)
		return "", err
	}
	ack, err := b.js.Publish(ctx, subject, data, jetstream.WithExpectStream(b.opts.StreamName))
	if err != nil {
		b.stores.forget(err)
		b.c.notPublished.Add(1)
		b.warn("nats adapter: message not confirmed by JetStream", "subject", subject, "err", err, "dropped", b.c.notPublished.Load())
		return "", fmt.Errorf("nats adapter: publish on %s: %w", subject, err)
	}
	b.c.published.Add(1)
	return strconv.FormatUint(ack.Sequence, 10), nil
}
