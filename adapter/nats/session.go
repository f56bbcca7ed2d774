package nats

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/internal/notepack"
)

// Sessions live in the bucket under n<nsp>.p<pid>, both base64url: key
// tokens allow few characters, and the letters keep a token non-empty.
func sessionKey(nsp, pid string) string {
	enc := base64.RawURLEncoding
	return "n" + enc.EncodeToString([]byte(nsp)) + ".p" + enc.EncodeToString([]byte(pid))
}

// encodeSession writes {sid, pid, rooms, data, exp}: exp (Unix
// milliseconds) lets a ttl shorter than the bucket's hold.
func encodeSession(s sockio.Session, exp time.Time) ([]byte, error) {
	b, err := notepack.Marshal(wire.Session(s, s.Data, notepack.KV{Key: "exp", Value: exp.UnixMilli()}))
	if err != nil {
		return nil, fmt.Errorf("nats adapter: encode session %s: %w", s.PID, err)
	}
	return b, nil
}

// decodeSession reads encodeSession's output; data comes back as
// encoding/json would give it (map[string]any, []any, float64), binary as
// []byte.
func decodeSession(b []byte) (*sockio.Session, time.Time, error) {
	v, err := notepack.Unmarshal(b)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: session: %w", errMalformed, err)
	}
	s, m, err := wire.ReadSession(v)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", errMalformed, err)
	}
	var exp time.Time
	if e, ok := asInt(wire.Field(m, "exp")); ok {
		exp = time.UnixMilli(e)
	}
	return s, exp, nil
}

// PersistSession implements cluster.SessionStore. A ttl longer than the
// bucket's (Recovery.Window) is cut to it.
func (r *RecoveringBroker) PersistSession(ctx context.Context, nsp string, s sockio.Session, ttl time.Duration) error {
	if r.err != nil {
		return r.err
	}
	kv, err := r.stores.bucket(ctx)
	if err != nil {
		return err
	}
	b, err := encodeSession(s, time.Now().Add(ttl))
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, sessionKey(nsp, s.PID), b); err != nil {
		return fmt.Errorf("nats adapter: persist session %s: %w", s.PID, err)
	}
	return nil
}

// TakeSession implements cluster.SessionStore. Get then a delete
// conditioned on the revision read: when two nodes take one session at
// once, one delete fails (the revision moved) and only the node whose
// delete succeeded returns the session.
func (r *RecoveringBroker) TakeSession(ctx context.Context, nsp, pid string) (*sockio.Session, error) {
	if r.err != nil {
		return nil, r.err
	}
	kv, err := r.stores.bucket(ctx)
	if err != nil {
		return nil, err
	}
	key := sessionKey(nsp, pid)
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nats adapter: take session %s: %w", pid, err)
	}
	if err := kv.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			return nil, nil // another node took it
		}
		return nil, fmt.Errorf("nats adapter: take session %s: %w", pid, err)
	}
	s, exp, err := decodeSession(e.Value())
	if err != nil {
		n := r.c.malformed.Add(1)
		r.warn("nats adapter: malformed session dropped", "pid", pid, "err", err, "malformed", n)
		return nil, nil
	}
	if s.PID != pid || !exp.IsZero() && time.Now().After(exp) {
		return nil, nil
	}
	return s, nil
}
