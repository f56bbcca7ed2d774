package nats

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio/adapter/cluster"
)

// subscription is one Subscribe: core subscriptions for responses and
// heartbeats, and either a core subscription or an ordered JetStream
// consumer for the namespace's messages. Its handler calls are serialised
// by mu, so the Handler never runs concurrently with itself, and Cancel
// waits for the call in progress.
type subscription struct {
	b *Broker
	h cluster.Handler

	mu       sync.Mutex // held by each handler call
	canceled bool

	setMu sync.Mutex // guards what Subscribe set up
	core  []*natsgo.Subscription
	cons  jetstream.Consumer
	cc    jetstream.ConsumeContext
}

func (s *subscription) addCore(subject string, fn natsgo.MsgHandler) error {
	sub, err := s.b.nc.Subscribe(subject, fn)
	if err != nil {
		return fmt.Errorf("nats adapter: subscribe to %s: %w", subject, err)
	}
	s.setMu.Lock()
	s.core = append(s.core, sub)
	s.setMu.Unlock()
	return nil
}

// consume starts an ordered consumer of the namespace's subject at the end
// of the stream as it is now: every message stored after Subscribe returns
// has a later sequence and is delivered, once (the ordered consumer
// resumes after the last sequence it delivered when it has to be
// recreated, after a reconnect for instance).
func (s *subscription) consume(ctx context.Context, subject string) error {
	st, err := s.b.stores.stream(ctx)
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("nats adapter: stream %s: %w", s.b.opts.StreamName, err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{subject},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       info.State.LastSeq + 1,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		return fmt.Errorf("nats adapter: consumer of %s: %w", subject, err)
	}
	cc, err := cons.Consume(s.onLog, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		s.b.warn("nats adapter: consumer error", "subject", subject, "err", err)
	}))
	if err != nil {
		return fmt.Errorf("nats adapter: consume %s: %w", subject, err)
	}
	s.setMu.Lock()
	s.cons, s.cc = cons, cc
	s.setMu.Unlock()
	return nil
}

// Cancel implements cluster.Subscription.
func (s *subscription) Cancel() error {
	s.mu.Lock()
	if s.canceled {
		s.mu.Unlock()
		return nil
	}
	s.canceled = true
	s.mu.Unlock()
	s.setMu.Lock()
	core, cc := s.core, s.cc
	s.setMu.Unlock()
	// Once canceled is set under mu no handler call starts; the one in
	// progress, if any, held mu and has returned.
	var first error
	for _, sub := range core {
		if err := sub.Unsubscribe(); err != nil && first == nil && err != natsgo.ErrConnectionClosed && err != natsgo.ErrBadSubscription {
			first = fmt.Errorf("nats adapter: unsubscribe %s: %w", sub.Subject, err)
		}
	}
	if cc != nil {
		cc.Stop()
		s.deleteConsumer()
	}
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	return first
}

// deleteConsumer frees the server's consumer now rather than after its
// inactivity threshold; best effort.
func (s *subscription) deleteConsumer() {
	var name string
	if ci := s.cons.CachedInfo(); ci != nil {
		name = ci.Name
	}
	if name == "" || !s.b.nc.IsConnected() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.b.js.DeleteConsumer(ctx, s.b.opts.StreamName, name)
}

func (s *subscription) dropped() uint64 {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	var n uint64
	for _, sub := range s.core {
		if d, err := sub.Dropped(); err == nil && d > 0 {
			n += uint64(d)
		}
	}
	return n
}

func (s *subscription) decode(subject string, data []byte) *cluster.Message {
	m, err := decodeMessage(data)
	if err != nil {
		n := s.b.c.malformed.Add(1)
		s.b.warn("nats adapter: malformed message dropped", "subject", subject, "bytes", len(data), "err", err, "malformed", n)
		return nil
	}
	return m
}

func (s *subscription) onCore(msg *natsgo.Msg) {
	m := s.decode(msg.Subject, msg.Data)
	if m == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.canceled {
		return
	}
	s.b.c.delivered.Add(1)
	s.h.HandleMessage(m, "")
}

func (s *subscription) onResponse(msg *natsgo.Msg) {
	m := s.decode(msg.Subject, msg.Data)
	if m == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.canceled {
		return
	}
	s.b.c.delivered.Add(1)
	s.h.HandleResponse(m)
}

func (s *subscription) onLog(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		n := s.b.c.malformed.Add(1)
		s.b.warn("nats adapter: stream message without metadata dropped", "subject", msg.Subject(), "err", err, "malformed", n)
		return
	}
	m := s.decode(msg.Subject(), msg.Data())
	if m == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.canceled {
		return
	}
	s.b.c.delivered.Add(1)
	s.h.HandleMessage(m, strconv.FormatUint(md.Sequence.Stream, 10))
}
