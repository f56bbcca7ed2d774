package client

import "sync"

// tracker counts the goroutines a manager starts (dials, auth calls) so
// that Close can wait for them. Unlike a sync.WaitGroup it may be waited on
// while new goroutines start, and reused after.
type tracker struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0; nil while n is 0
}

// Go runs fn on a new goroutine and counts it.
func (t *tracker) Go(fn func()) {
	t.mu.Lock()
	t.n++
	if t.zero == nil {
		t.zero = make(chan struct{})
	}
	t.mu.Unlock()
	go func() {
		defer t.done()
		fn()
	}()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		close(t.zero)
		t.zero = nil
	}
	t.mu.Unlock()
}

// Wait returns once no counted goroutine is running.
func (t *tracker) Wait() {
	t.mu.Lock()
	ch := t.zero
	t.mu.Unlock()
	if ch != nil {
		<-ch
	}
}
