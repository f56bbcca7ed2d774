package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// stores creates or updates the stream and the bucket on first use, and
// again after a failure (the server may have lost them).
type stores struct {
	b  *Broker
	mu sync.Mutex
	st jetstream.Stream
	kv jetstream.KeyValue
}

func (s *stores) streamConfig() jetstream.StreamConfig {
	o := s.b.opts
	return jetstream.StreamConfig{
		Name:        o.StreamName,
		Description: "sockio cluster messages kept for connection-state recovery",
		// One token after the prefix: the namespace subjects, not the
		// responses (prefix.N.U) nor the heartbeats (prefix.N.%hb).
		Subjects:  []string{o.Prefix + ".*"},
		Retention: jetstream.LimitsPolicy,
		Discard:   jetstream.DiscardOld,
		MaxAge:    o.Recovery.Window,
		MaxMsgs:   o.Recovery.MaxMsgs,
		MaxBytes:  o.Recovery.MaxBytes,
		Storage:   jetstream.FileStorage,
		Replicas:  o.Recovery.Replicas,
		// No message ids are set; the window only has to fit in MaxAge.
		Duplicates:  min(o.Recovery.Window, time.Minute),
		AllowDirect: true,
	}
}

func (s *stores) stream(ctx context.Context) (jetstream.Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != nil {
		return s.st, nil
	}
	st, err := s.b.js.CreateOrUpdateStream(ctx, s.streamConfig())
	if err != nil {
		return nil, fmt.Errorf("nats adapter: create stream %s: %w", s.b.opts.StreamName, err)
	}
	s.st = st
	return st, nil
}

func (s *stores) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv != nil {
		return s.kv, nil
	}
	o := s.b.opts
	kv, err := s.b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      o.StreamName + "_sessions",
		Description: "sockio sessions of disconnected sockets",
		History:     1,
		TTL:         o.Recovery.Window,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Recovery.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("nats adapter: create bucket %s_sessions: %w", o.StreamName, err)
	}
	s.kv = kv
	return kv, nil
}

// forget drops the cached stream after an error that says it is gone.
func (s *stores) forget(err error) {
	if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		s.mu.Lock()
		s.st = nil
		s.mu.Unlock()
	}
}
