package sockio

import (
	"runtime"
	"sync"
	"testing"
)

// queueOnly is a client with just a work queue, on srv's workers.
func queueOnly(srv *Server) *Client {
	c := &Client{server: srv}
	return c
}

func idleWorkers(srv *Server) []*worker {
	srv.workers.mu.Lock()
	defer srv.workers.mu.Unlock()
	return append([]*worker(nil), srv.workers.idle...)
}

// A queue that runs dry parks its worker, and the next turn, of any client,
// runs on that same worker.
func TestWorkerPoolReuses(t *testing.T) {
	srv := &Server{}
	defer srv.workers.close()
	a, b := queueOnly(srv), queueOnly(srv)
	done := make(chan struct{})
	a.enqueue(task{fn: func() { done <- struct{}{} }}, false)
	<-done
	waitFor(t, func() bool { return len(idleWorkers(srv)) == 1 })
	first := idleWorkers(srv)[0]
	b.enqueue(task{fn: func() {
		if n := len(idleWorkers(srv)); n != 0 {
			t.Errorf("%d workers parked while the only one runs", n)
		}
		done <- struct{}{}
	}}, false)
	<-done
	waitFor(t, func() bool { return len(idleWorkers(srv)) == 1 })
	if idleWorkers(srv)[0] != first {
		t.Fatal("the second turn ran on a new worker")
	}
}

// At most maxIdleWorkers stay parked after a burst; Close ends them, and
// work that comes after Close still runs.
func TestWorkerPoolBoundAndClose(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := &Server{}
	const n = maxIdleWorkers + 20
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		queueOnly(srv).enqueue(task{fn: func() { started.Done(); <-release }}, false)
	}
	started.Wait() // n workers at once: none was parked to reuse
	close(release)
	waitFor(t, func() bool { return len(idleWorkers(srv)) == maxIdleWorkers })
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base+maxIdleWorkers })

	srv.workers.close()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base })
	done := make(chan struct{})
	queueOnly(srv).enqueue(task{fn: func() { close(done) }}, false)
	<-done
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base })
	if n := len(idleWorkers(srv)); n != 0 {
		t.Fatalf("%d workers parked after Close", n)
	}
}

// A server that goes quiet ends its parked workers within two
// workerIdleTimeouts, without Close.
func TestWorkerPoolIdleWorkersEnd(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := &Server{}
	defer srv.workers.close()
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(3)
	for i := 0; i < 3; i++ {
		queueOnly(srv).enqueue(task{fn: func() { started.Done(); <-release }}, false)
	}
	started.Wait()
	close(release)
	waitFor(t, func() bool { return len(idleWorkers(srv)) == 3 })
	waitFor(t, func() bool { return len(idleWorkers(srv)) == 0 && runtime.NumGoroutine() <= base })
	srv.workers.mu.Lock()
	armed := srv.workers.sweeping != nil
	srv.workers.mu.Unlock()
	if armed {
		t.Fatal("the sweep timer is still armed with no worker parked")
	}
}
