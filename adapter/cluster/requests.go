package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/internal/notepack"
)

// request is a request waiting for the other nodes' answers. With
// heartbeats it waits for the nodes live when it was sent (missing), and
// stops waiting for one dropped meanwhile; with a ServerCounter, for
// expected answers.
type request struct {
	typ      MessageType
	missing  map[string]struct{} // heartbeat mode
	expected int                 // counter mode
	got      int
	answered map[string]struct{}
	lost     []string // nodes dropped while it waited
	finished bool
	done     chan struct{}

	sockets   []*sockio.RemoteSocket
	responses []sockio.Args
}

func (r *request) completeLocked() bool {
	if r.missing != nil {
		return len(r.missing) == 0
	}
	return r.got >= r.expected
}

func (r *request) finishLocked() {
	if !r.finished {
		r.finished = true
		close(r.done)
	}
}

func (r *request) expectedCount() int {
	if r.missing != nil {
		return r.got + len(r.missing) + len(r.lost)
	}
	return r.expected
}

// request asks the other nodes and waits for their answers, until all
// answered (or the silent ones were dropped), timeout passed, ctx ended or
// the adapter closed. It returns the request (nil if none was sent: no
// other node) and why it is incomplete.
func (a *Adapter) request(ctx context.Context, typ MessageType, timeout time.Duration, data func(id string) notepack.Map) (*request, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(a.ctx, cancel)
	defer stop()
	req := &request{typ: typ, answered: make(map[string]struct{}), done: make(chan struct{})}
	if a.c.counter != nil {
		n, err := a.ServerCount(ctx)
		if err != nil {
			err = a.waitErr(ctx, err)
			a.c.incomplete.add("nsp", a.name, "type", int(typ), "err", err)
			return nil, err
		}
		if n <= 1 {
			return nil, nil
		}
		req.expected = n - 1
	}
	id := randomID()
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, errClosed
	}
	if a.c.counter == nil {
		if len(a.nodes) == 0 {
			a.mu.Unlock()
			return nil, nil
		}
		req.missing = make(map[string]struct{}, len(a.nodes))
		for uid := range a.nodes {
			req.missing[uid] = struct{}{}
		}
	}
	a.requests[id] = req
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.requests, id)
		a.mu.Unlock()
	}()
	if _, err := a.publish(typ, data(id)); err != nil {
		return req, err
	}
	select {
	case <-req.done:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	req.finishLocked()
	if len(req.lost) > 0 {
		a.c.log.Warn("cluster adapter: request stopped waiting for nodes gone", "nsp", a.name, "type", int(typ), "nodes", req.lost)
	}
	if req.completeLocked() {
		return req, nil
	}
	err := a.waitErr(ctx, fmt.Errorf("%d of %d nodes answered", req.got, req.expectedCount()))
	if err != errClosed {
		attrs := []any{"nsp", a.name, "type", int(typ), "answered", req.got, "expected", req.expectedCount(), "err", err}
		var silent []string
		if req.missing != nil {
			for uid := range req.missing {
				silent = append(silent, uid)
			}
		} else if len(req.answered) == req.got {
			// With a ServerCounter, the nodes heard from recently that did
			// not answer, when every answer said who it was from.
			silent = a.silentPeersLocked(req)
		}
		if len(silent) > 0 {
			slices.Sort(silent)
			attrs = append(attrs, "silent", silent)
		}
		a.c.incomplete.add(attrs...)
	}
	return req, err
}

// waitErr explains why a wait ended early: a timeout (wrapping
// sockio.ErrTimeout), the caller's cancellation, or the adapter's close.
func (a *Adapter) waitErr(ctx context.Context, detail error) error {
	if a.ctx.Err() != nil {
		return errClosed
	}
	return wire.WaitErr(ctx, detail)
}

// answer records node uid's answer to request id, unless the request is
// unknown, done, of another type, or the node already answered or is not
// one it waits for; add runs under the lock.
func (a *Adapter) answer(id string, typ MessageType, uid string, add func(*request)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	req := a.requests[id]
	if req == nil || req.finished || req.typ != typ {
		return
	}
	if uid != "" {
		if _, dup := req.answered[uid]; dup {
			return
		}
	}
	if req.missing != nil {
		if _, waiting := req.missing[uid]; !waiting {
			return
		}
		delete(req.missing, uid)
	}
	if uid != "" {
		req.answered[uid] = struct{}{}
	}
	req.got++
	add(req)
	if req.completeLocked() {
		req.finishLocked()
	}
}

// FetchSockets implements sockio.Adapter. On error (a node that did not
// answer in time: the error wraps sockio.ErrTimeout) the sockets gathered
// so far, the local ones at least, come with it.
func (a *Adapter) FetchSockets(ctx context.Context, opts *sockio.BroadcastOptions) ([]*sockio.RemoteSocket, error) {
	local, _ := a.MemoryAdapter.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	timeout := opts.Flags.Timeout
	if timeout <= 0 {
		timeout = a.c.opts.RequestsTimeout
	}
	req, err := a.request(ctx, FetchSockets, timeout, func(id string) notepack.Map {
		return notepack.Map{{Key: "opts", Value: wire.Options(opts, true)}, {Key: "requestId", Value: id}}
	})
	if req != nil {
		a.mu.Lock()
		local = append(local, req.sockets...)
		a.mu.Unlock()
	}
	if err != nil {
		return local, fmt.Errorf("cluster adapter: fetchSockets: %w", err)
	}
	return local, nil
}

// ServerSideEmit implements sockio.Adapter. args[0] is the event name.
// With onDone, it waits (on its own goroutine) for one acknowledgement per
// live node, until RequestsTimeout or ctx ends; onDone gets the answers,
// each as Args of one value (the reference passes the first argument
// only).
func (a *Adapter) ServerSideEmit(ctx context.Context, args []any, onDone func(error, []sockio.Args)) {
	data, err := wire.Values(args)
	if err == nil && (len(data) == 0 || !wire.IsEventName(data[0])) {
		err = errors.New("cluster adapter: serverSideEmit needs an event name")
	}
	if err != nil {
		if onDone != nil {
			onDone(fmt.Errorf("cluster adapter: serverSideEmit: %w", err), nil)
		}
		return
	}
	if onDone == nil {
		if _, err := a.publish(ServerSideEmit, notepack.Map{{Key: "packet", Value: data}}); err != nil {
			a.c.log.Warn("cluster adapter: serverSideEmit not sent", "nsp", a.name, "err", err)
		}
		return
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		onDone(errClosed, nil)
		return
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		req, err := a.request(ctx, ServerSideEmit, a.c.opts.RequestsTimeout, func(id string) notepack.Map {
			return notepack.Map{{Key: "requestId", Value: id}, {Key: "packet", Value: data}}
		})
		var res []sockio.Args
		if req != nil {
			a.mu.Lock()
			res = req.responses
			a.mu.Unlock()
		}
		if err != nil {
			err = fmt.Errorf("cluster adapter: serverSideEmit: %w", err)
		}
		onDone(err, res)
	}()
}
