package engineio

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/internal/wsconn"
)

// flushChunk is how many sessions a flusher goroutine writes before it
// yields, so that readers get to queue more (the next broadcast joins
// the same write) and a second flusher can start on another core.
const flushChunk = 128

// flusher writes the queues of websocket sessions that have something to
// send. Rather than a goroutine per session per burst, a few goroutines
// (at most one per core) walk the sessions marked ready and write each
// queue with one non-blocking writev. Under a broadcast this also
// coalesces: a session whose turn has not yet come gathers the next
// messages and sends them in the same call. A peer whose socket buffer is
// full gets a goroutine of its own for the rest, so nobody waits for it.
type flusher struct {
	mu      sync.Mutex
	ready   []*Session // [head:] wait for their turn
	head    int
	running int // goroutines in run
	max     int // bound on running, GOMAXPROCS when the burst began
}

// add marks s ready; s.flushing is set, so s is in the list at most once.
func (f *flusher) add(s *Session) {
	f.mu.Lock()
	if f.head > 0 && f.head >= len(f.ready)/2 {
		// Under steady load the list never empties: drop the taken
		// prefix before it grows the array.
		n := copy(f.ready, f.ready[f.head:])
		clear(f.ready[n:])
		f.ready, f.head = f.ready[:n], 0
	}
	f.ready = append(f.ready, s)
	if f.running == 0 {
		f.max = runtime.GOMAXPROCS(0) // read once per burst: it takes a runtime lock
	}
	start := f.running == 0 ||
		(len(f.ready)-f.head > flushChunk*f.running && f.running < f.max)
	if start {
		f.running++
	}
	f.mu.Unlock()
	if start {
		go f.run()
	}
}

// take removes up to flushChunk sessions from the front of the list into
// batch; it returns false, and counts the goroutine out, when none is left.
func (f *flusher) take(batch []*Session) ([]*Session, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := min(len(f.ready)-f.head, flushChunk)
	if n == 0 {
		clear(f.ready)
		f.ready, f.head = f.ready[:0], 0
		if cap(f.ready) > 64<<10 {
			f.ready = nil // after a burst to very many sessions
		}
		f.running--
		return batch, false
	}
	batch = append(batch[:0], f.ready[f.head:f.head+n]...)
	clear(f.ready[f.head : f.head+n])
	f.head += n
	return batch, true
}

func (f *flusher) run() {
	var small [flushChunk]*Session
	batch := small[:0]
	for {
		var ok bool
		if batch, ok = f.take(batch); !ok {
			return
		}
		for _, s := range batch {
			s.flushTurn(f)
		}
		clear(batch)
		runtime.Gosched()
	}
}

// flushTurn writes what s has queued without blocking. It requeues s if
// more arrived meanwhile, and hands a partial write to a goroutine.
func (s *Session) flushTurn(f *flusher) {
	s.mu.Lock()
	ws, pkts, more := s.takeForFlushLocked()
	s.mu.Unlock()
	if !more {
		return
	}
	var small [16]wsconn.Frame
	pending, err := ws.TryWriteFrames(s.appendFrames(small[:0], pkts))
	if pending != nil {
		// The peer lags: its own goroutine waits for it (bounded by the
		// write timeout), then gives the session back to the flusher.
		go func() {
			err := pending.Finish(time.Now().Add(s.srv.opts.WriteTimeout))
			s.afterFlush(f, pkts, err)
		}()
		return
	}
	s.afterFlush(f, pkts, err)
}

// takeForFlushLocked takes the queue for the writer that holds
// s.flushing. With nothing left it ends the flushing (and finishes a
// closing session, on its own goroutine) and returns more == false.
func (s *Session) takeForFlushLocked() (ws *wsconn.Conn, pkts []frame, more bool) {
	if s.state == stateClosed {
		s.flushing = false
		return nil, nil, false
	}
	if len(s.queue) == 0 {
		s.flushing = false
		if s.state == stateClosing {
			go s.finish("", nil, packet.Close)
		}
		return nil, nil, false
	}
	return s.ws, s.takeLocked(), true
}

// afterFlush returns the written batch and either requeues s, when more
// was queued meanwhile, or ends its flushing.
func (s *Session) afterFlush(f *flusher, pkts []frame, err error) {
	if err == nil {
		s.srv.stats.sent(pkts)
	}
	s.mu.Lock()
	s.giveBackLocked(pkts)
	if err != nil {
		s.flushing = false
		s.mu.Unlock()
		s.finishOnWriteError(err)
		return
	}
	if len(s.queue) > 0 && s.state != stateClosed {
		s.mu.Unlock()
		f.add(s) // still flushing: the turn passes on
		return
	}
	_, _, _ = s.takeForFlushLocked() // nothing queued: ends the flushing
	s.mu.Unlock()
}

// finishOnWriteError ends the session after a failed write. A connection
// already closed (the peer's close frame was answered, or the reader saw
// it go) is the peer leaving, not a transport error.
func (s *Session) finishOnWriteError(err error) {
	if errors.Is(err, net.ErrClosed) {
		s.finish(ReasonTransportClose, nil, packet.Close)
		return
	}
	s.finish(ReasonTransportError, err, packet.Close)
}
