package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// openStats describes how a batch of connections went.
type openStats struct {
	ok, failed atomic.Int64
	latency    Histogram // successful setups only
	first      time.Time // first attempt
	lastOK     atomic.Int64
	mu         sync.Mutex
	failures   map[string]int
}

func (s *openStats) fail(err error) {
	s.failed.Add(1)
	s.mu.Lock()
	if s.failures == nil {
		s.failures = map[string]int{}
	}
	s.failures[classify(err)]++
	s.mu.Unlock()
}

// acceptRate is successful connections per second, from the first attempt
// to the last success.
func (s *openStats) acceptRate() float64 {
	last := s.lastOK.Load()
	if last == 0 {
		return 0
	}
	d := time.Duration(last - s.first.UnixNano())
	if d <= 0 {
		return 0
	}
	return float64(s.ok.Load()) / d.Seconds()
}

// openMany sets up n connections with open, at most rate per second (0:
// as fast as cfg.Concurrency setups in flight allow). Slot i of the result
// is the zero value when connection i failed. It stops early when ctx ends.
func openMany[T any](ctx context.Context, cfg *Config, n int, rate float64, st *openStats,
	open func(ctx context.Context, i int) (T, error)) []T {
	out := make([]T, n)
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	st.first = time.Now()
	for i := 0; i < n; i++ {
		if rate > 0 {
			due := st.first.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			octx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
			defer cancel()
			t0 := time.Now()
			c, err := open(octx, i)
			if err != nil {
				st.fail(err)
				return
			}
			now := time.Now()
			st.latency.Record(now.Sub(t0))
			st.ok.Add(1)
			for {
				l := st.lastOK.Load()
				if now.UnixNano() <= l || st.lastOK.CompareAndSwap(l, now.UnixNano()) {
					break
				}
			}
			out[i] = c
		}(i)
	}
	wg.Wait()
	return out
}

// closeAll closes connections with bounded parallelism, so a large run
// tears down quickly without a burst of thousands of goroutines.
func closeAll[T any](cs []T, closeFn func(T)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, c := range cs {
		sem <- struct{}{}
		wg.Add(1)
		go func(c T) {
			defer wg.Done()
			defer func() { <-sem }()
			closeFn(c)
		}(c)
	}
	wg.Wait()
}
