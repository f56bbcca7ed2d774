package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
)

var _ cluster.SessionBatchStore = (*RecoveringBroker)(nil)

// batchParallel bounds the puts and deletes of a batch in flight at once:
// a KV put waits for its JetStream acknowledgement, and nats.go has no
// asynchronous put.
const batchParallel = 16

// PersistSessions implements cluster.SessionBatchStore: the puts and the
// deletes (plain ones: the live snapshot of a socket that left is dropped
// whatever its revision) of the live sessions, batchParallel at a time.
func (r *RecoveringBroker) PersistSessions(ctx context.Context, nsp string, keep []sockio.Session, ttl time.Duration, drop []string) error {
	if r.err != nil {
		return r.err
	}
	kv, err := r.stores.bucket(ctx)
	if err != nil {
		return err
	}
	exp := time.Now().Add(ttl)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, batchParallel)
	)
	do := func(fn func() error) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	for _, s := range keep {
		b, err := encodeSession(s, exp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := sessionKey(nsp, s.PID)
		do(func() error {
			_, err := kv.Put(ctx, key, b)
			return err
		})
	}
	for _, pid := range drop {
		key := sessionKey(nsp, pid)
		do(func() error { return kv.Delete(ctx, key) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nats adapter: persist %d sessions, drop %d: %w", len(keep), len(drop), err)
	}
	return nil
}
