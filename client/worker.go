package client

import (
	"context"
	"sync"
)

// maxPending bounds the events waiting for a socket's handlers; past it
// the connection's reader waits, which pushes back on the server.
const maxPending = 256

// worker runs tasks one at a time, in the order they were pushed, on a
// goroutine that exists only while there is work.
type worker struct {
	mu      sync.Mutex
	tasks   []func()
	running bool
	notFull chan struct{} // one slot: a task was taken from a full queue
}

// push adds fn. A bounded push waits while maxPending tasks are queued,
// until ctx ends; it reports whether fn was queued. Lifecycle events and
// acknowledgements are pushed unbounded: there are few of them, and they
// must not wait behind a reader that is itself waiting.
func (w *worker) push(ctx context.Context, fn func(), bounded bool) bool {
	for {
		w.mu.Lock()
		if !bounded || len(w.tasks) < maxPending {
			w.tasks = append(w.tasks, fn)
			if !w.running {
				w.running = true
				go w.run()
			}
			w.mu.Unlock()
			return true
		}
		if w.notFull == nil {
			w.notFull = make(chan struct{}, 1)
		}
		ch := w.notFull
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (w *worker) run() {
	for {
		w.mu.Lock()
		if len(w.tasks) == 0 {
			w.running = false
			w.tasks = nil
			w.mu.Unlock()
			return
		}
		fn := w.tasks[0]
		w.tasks[0] = nil
		w.tasks = w.tasks[1:]
		if len(w.tasks) < maxPending && w.notFull != nil {
			select {
			case w.notFull <- struct{}{}:
			default:
			}
		}
		w.mu.Unlock()
		fn()
	}
}
