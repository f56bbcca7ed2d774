package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sockio/sockio"
)

// SessionBatchStore is a SessionStore that keeps and forgets many sessions
// in one round trip. The live sessions of connected sockets (see
// Options.DisableLiveSessions) are written in batches, once per
// Options.LiveSessionsFlush; a store without it gets one call per session.
type SessionBatchStore interface {
	SessionStore
	// PersistSessions keeps each session of keep for ttl, as PersistSession
	// does, and forgets the sessions kept under the pids of drop.
	PersistSessions(ctx context.Context, nsp string, keep []sockio.Session, ttl time.Duration, drop []string) error
}

// persistSessions writes a batch through store, in one call when it can.
func persistSessions(ctx context.Context, store SessionStore, nsp string, keep []sockio.Session, ttl time.Duration, drop []string) error {
	if bs, ok := store.(SessionBatchStore); ok {
		return bs.PersistSessions(ctx, nsp, keep, ttl, drop)
	}
	var errs []error
	for _, s := range keep {
		if err := store.PersistSession(ctx, nsp, s, ttl); err != nil {
			errs = append(errs, err)
		}
	}
	// TakeSession forgets what it returns: a store has no other delete.
	for _, pid := range drop {
		if _, err := store.TakeSession(ctx, nsp, pid); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: persist sessions: %w", err)
	}
	return nil
}
