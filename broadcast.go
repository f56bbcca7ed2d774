package sockio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sockio/sockio/parser"
)

// BroadcastOperator selects sockets (To, In, Except) and sets flags
// (Volatile, Local, Compress, Timeout) for an Emit or a server utility.
// Each method returns a new operator, so operators can be shared.
type BroadcastOperator struct {
	nsp  *Namespace
	opts BroadcastOptions
}

func newBroadcastOperator(nsp *Namespace) *BroadcastOperator {
	return &BroadcastOperator{nsp: nsp}
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.opts.Rooms = append([]string(nil), b.opts.Rooms...)
	c.opts.Except = append([]string(nil), b.opts.Except...)
	return &c
}

// To adds rooms to the target rooms.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.opts.Rooms = appendNew(c.opts.Rooms, rooms)
	return c
}

// In is the same as To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except excludes the sockets in rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.opts.Except = appendNew(c.opts.Except, rooms)
	return c
}

// Volatile lets the event be dropped for clients that cannot take it now.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.opts.Flags.Volatile = true
	return c
}

// Local limits the broadcast to this node.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.opts.Flags.Local = true
	return c
}

// Compress turns WebSocket compression on or off for the event.
func (b *BroadcastOperator) Compress(on bool) *BroadcastOperator {
	c := b.clone()
	c.opts.Flags.NoCompress = !on
	return c
}

// Timeout bounds the wait for acknowledgements.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.opts.Flags.Timeout = d
	return c
}

func appendNew(dst, add []string) []string {
	for _, r := range add {
		dup := false
		for _, have := range dst {
			if have == r {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, r)
		}
	}
	return dst
}

// Emit sends an event to the selected sockets, encoded once for all. A
// trailing func(err error, responses []Args) asks every socket for an
// acknowledgement; it is called once, when all have answered or, with
// ErrTimeout and the answers so far, when Timeout runs out.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	args, cb := splitCallback(args)
	p, err := newEventPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	if cb == nil {
		b.nsp.adapter.Broadcast(p, &b.opts)
		return nil
	}
	fn, ok := cb.(func(error, []Args))
	if !ok {
		return fmt.Errorf("sockio: broadcast ack callback must be func(error, []sockio.Args), got %T", cb)
	}
	timeout := b.ackTimeout()
	if timeout <= 0 {
		return errNoTimeout
	}
	b.broadcastWithAck(p, timeout, fn)
	return nil
}

// ackTimeout is the operator's Timeout, else the server's AckTimeout.
func (b *BroadcastOperator) ackTimeout() time.Duration {
	if t := b.opts.Flags.Timeout; t > 0 {
		return t
	}
	return b.nsp.server.opts.AckTimeout
}

// EmitWithAck sends an event to the selected sockets and waits for all
// their acknowledgements, until the operator's Timeout or ctx ends.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	p, err := newEventPacket(b.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	type result struct {
		err error
		res []Args
	}
	timeout := b.ackTimeout()
	if deadline, ok := ctx.Deadline(); ok && (timeout <= 0 || time.Until(deadline) < timeout) {
		timeout = time.Until(deadline)
	}
	if timeout <= 0 {
		return nil, errNoTimeout
	}
	ch := make(chan result, 1)
	done := b.broadcastWithAck(p, timeout, func(err error, res []Args) { ch <- result{err, res} })
	select {
	case r := <-ch:
		return r.res, r.err
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}

// broadcastWithAck gathers answers as the reference does: complete when
// every node reported its client count and every client answered, or
// ErrTimeout with the answers so far. It returns a func that abandons it.
//
// fn runs once, on a goroutine of its own, never the caller's and never
// under a lock: the timer's when the timeout ends it, a new one when the
// last answer completes it. The timer here ends the whole request; each
// node's adapter has one more for its own recipients (ackWait), which
// makes them forget the ack id: a node cannot see this one.
func (b *BroadcastOperator) broadcastWithAck(p *parser.Packet, timeout time.Duration, fn func(error, []Args)) func() {
	g := &ackGather{fn: fn, servers: -1}
	opts := b.opts
	opts.Flags.Timeout = timeout
	g.mu.Lock()
	g.timer = time.AfterFunc(timeout, func() {
		g.mu.Lock()
		if g.finished {
			g.mu.Unlock()
			return
		}
		g.finished = true
		res := g.responses
		g.mu.Unlock()
		fn(ErrTimeout, res)
	})
	g.mu.Unlock()
	b.nsp.adapter.BroadcastWithAck(p, &opts, func(n int) {
		g.mu.Lock()
		g.expected += n
		g.counted++
		g.check()
		g.mu.Unlock()
	}, func(res Args) {
		g.mu.Lock()
		if !g.finished {
			g.responses = append(g.responses, res)
		}
		g.check()
		g.mu.Unlock()
	})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		n, err := b.nsp.adapter.ServerCount(ctx)
		if err != nil {
			return // the timer reports the failure
		}
		g.mu.Lock()
		g.servers = n
		g.check()
		g.mu.Unlock()
	}()
	return func() {
		g.mu.Lock()
		g.finished = true
		g.timer.Stop()
		g.mu.Unlock()
	}
}

var errNoTimeout = errors.New("sockio: a broadcast with acknowledgements needs a Timeout, a context deadline or Options.AckTimeout")

type ackGather struct {
	mu        sync.Mutex
	fn        func(error, []Args)
	responses []Args
	expected  int // clients reached so far
	counted   int // nodes that reported
	servers   int // -1 until known
	finished  bool
	timer     *time.Timer
}

func (g *ackGather) check() {
	if g.finished || g.servers < 0 || g.counted != g.servers || len(g.responses) != g.expected {
		return
	}
	g.finished = true
	if g.timer != nil {
		g.timer.Stop()
	}
	res := g.responses
	go g.fn(nil, res)
}

// FetchSockets returns the selected sockets, across nodes.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return b.nsp.adapter.FetchSockets(ctx, &b.opts)
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) { b.nsp.adapter.AddSockets(&b.opts, rooms) }

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...string) {
	b.nsp.adapter.DelSockets(&b.opts, rooms)
}

// DisconnectSockets disconnects the selected sockets; close also closes
// their connections.
func (b *BroadcastOperator) DisconnectSockets(close bool) {
	b.nsp.adapter.DisconnectSockets(&b.opts, close)
}
