package sockio

import (
	"sync"
	"time"
)

const (
	// maxIdleWorkers bounds the parked workers of one server. Parked, a
	// worker is a goroutine whose stack the garbage collector shrinks back
	// toward 2 KiB, so the bound caps their memory at a few hundred KiB.
	maxIdleWorkers = 128
	// workerIdleTimeout: a worker parked for between one and two of these
	// ends, so a server that went quiet holds no parked goroutines.
	workerIdleTimeout = time.Second
)

// workerPool runs clients' work queues (Client.run) on goroutines that
// stay parked between turns. A client starts a worker when a packet
// arrives at an empty queue, which in a request-response exchange is every
// packet. A fresh goroutine starts on a 2 KiB stack that an event
// handler's call chain outgrows, so each event paid for stack copies: 12 %
// of the server's CPU in the echo benchmark. A parked worker keeps the
// stack it grew. Parked workers are the pool's, not a connection's: an
// idle connection holds none.
type workerPool struct {
	mu       sync.Mutex
	idle     []*worker // LIFO: the last one parked has the warmest stack
	closed   bool
	epoch    uint64      // sweeps so far
	sweeping *time.Timer // armed while a worker is parked
}

type worker struct {
	next  chan *Client
	epoch uint64 // the pool's epoch when it parked
}

// run runs c's queue on a parked worker, or on a new one if none is parked.
func (p *workerPool) run(c *Client) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.next <- c // buffered: never blocks
		return
	}
	p.mu.Unlock()
	go p.loop(&worker{next: make(chan *Client, 1)}, c)
}

func (p *workerPool) loop(w *worker, c *Client) {
	for c != nil {
		c.run()
		p.mu.Lock()
		if p.closed || len(p.idle) >= maxIdleWorkers {
			p.mu.Unlock()
			return
		}
		w.epoch = p.epoch
		p.idle = append(p.idle, w)
		if p.sweeping == nil {
			p.sweeping = time.AfterFunc(workerIdleTimeout, p.sweep)
		}
		p.mu.Unlock()
		c = <-w.next // nil once swept or the pool is closed
	}
}

// sweep ends the workers that were parked through a whole period. The
// oldest are at the bottom of the stack.
func (p *workerPool) sweep() {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := 0
	for k < len(p.idle) && p.idle[k].epoch < p.epoch {
		close(p.idle[k].next)
		k++
	}
	n := copy(p.idle, p.idle[k:])
	clear(p.idle[n:])
	p.idle = p.idle[:n]
	p.epoch++
	p.sweeping = nil
	if n > 0 && !p.closed {
		p.sweeping = time.AfterFunc(workerIdleTimeout, p.sweep)
	}
}

// close ends the parked workers. Work that comes later still runs, each
// time on a goroutine of its own that ends with it.
func (p *workerPool) close() {
	p.mu.Lock()
	p.closed = true
	for _, w := range p.idle {
		close(w.next)
	}
	p.idle = nil
	if p.sweeping != nil {
		p.sweeping.Stop()
		p.sweeping = nil
	}
	p.mu.Unlock()
}
