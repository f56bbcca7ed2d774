package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sockio/sockio/client/internal/engine"
	"github.com/sockio/sockio/parser"
)

// emitFlags are the modifiers of one emit.
type emitFlags struct {
	timeout    time.Duration
	volatile   bool
	noCompress bool
}

// Emit sends an event to the server. Arguments are anything encoding/json
// encodes; []byte values, at any depth in []any and map[string]any, travel
// as binary attachments. If the last argument is a function it is an
// acknowledgement callback: AckCallback, func(error), or func(err error,
// ...) with typed parameters; it gets ErrTimeout after the timeout (see
// Timeout and SocketOptions.AckTimeout) and ErrDisconnected if the
// connection is lost first.
//
// While the socket is disconnected the event is buffered (bounded by
// MaxBufferedEmits, then ErrBufferFull) and sent, in order, when it
// connects again. An event handed to a connection that then fails is lost,
// as with the reference client: use an acknowledgement to know it arrived.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, emitFlags{})
}

// Send emits a "message" event.
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// EmitWithAck sends an event and waits for the server's acknowledgement,
// until ctx ends (or the timeout of Timeout or AckTimeout passes).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return s.emitWithAck(ctx, event, args, emitFlags{})
}

// Timeout returns an emitter whose acknowledgements fail with ErrTimeout
// after d.
func (s *Socket) Timeout(d time.Duration) *Emitter {
	return &Emitter{s: s, flags: emitFlags{timeout: d}}
}

// Volatile returns an emitter whose events are dropped, not buffered, when
// they cannot leave at once (disconnected, or the transport is busy).
func (s *Socket) Volatile() *Emitter { return &Emitter{s: s, flags: emitFlags{volatile: true}} }

// Compress returns an emitter that allows WebSocket compression (true, the
// default) or not.
func (s *Socket) Compress(on bool) *Emitter {
	return &Emitter{s: s, flags: emitFlags{noCompress: !on}}
}

// Emitter sends events with modifiers set (Timeout, Volatile, Compress).
type Emitter struct {
	s     *Socket
	flags emitFlags
}

// Timeout sets the acknowledgement timeout.
func (e *Emitter) Timeout(d time.Duration) *Emitter { f := *e; f.flags.timeout = d; return &f }

// Volatile marks the events volatile.
func (e *Emitter) Volatile() *Emitter { f := *e; f.flags.volatile = true; return &f }

// Compress turns compression on or off.
func (e *Emitter) Compress(on bool) *Emitter { f := *e; f.flags.noCompress = !on; return &f }

// Emit is Socket.Emit with the emitter's modifiers.
func (e *Emitter) Emit(event string, args ...any) error { return e.s.emit(event, args, e.flags) }

// EmitWithAck is Socket.EmitWithAck with the emitter's modifiers.
func (e *Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return e.s.emitWithAck(ctx, event, args, e.flags)
}

func (s *Socket) emit(event string, args []any, flags emitFlags) error {
	args, cb := splitCallback(args)
	var fn AckCallback
	if cb != nil {
		var err error
		if fn, err = newAckCallback(cb); err != nil {
			return err
		}
	}
	p, err := newEventPacket(s.nsp, event, args)
	if err != nil {
		return err
	}
	return s.send(p, fn, false, flags)
}

func (s *Socket) emitWithAck(ctx context.Context, event string, args []any, flags emitFlags) (Args, error) {
	p, err := newEventPacket(s.nsp, event, args)
	if err != nil {
		return Args{}, err
	}
	type result struct {
		err error
		res Args
	}
	ch := make(chan result, 1)
	if err := s.send(p, func(err error, res Args) { ch <- result{err, res} }, true, flags); err != nil {
		return Args{}, err
	}
	select {
	case r := <-ch:
		return r.res, r.err
	case <-ctx.Done():
		s.dropAck(p.ID)
		return Args{}, ctx.Err()
	}
}

// send sends p now, buffers it, or drops it (volatile), registering the
// acknowledgement callback fn if any.
func (s *Socket) send(p *parser.Packet, fn AckCallback, inline bool, flags emitFlags) error {
	timeout := flags.timeout
	if timeout <= 0 {
		timeout = s.opts.AckTimeout
	}
	if s.m.isClosed() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	var pa *pendingAck
	if fn != nil {
		p.ID, p.HasID = s.ids, true
		s.ids++
		pa = &pendingAck{fn: fn, inline: inline}
	}
	conn := s.m.currentConn()
	if flags.volatile && (conn == nil || !s.connected || !conn.Writable()) {
		// Dropped. As in the reference, a callback still learns of it
		// through its timeout or the next disconnection.
		s.registerAckLocked(p, pa, timeout)
		return nil
	}
	if s.connected && conn != nil {
		err := s.m.sendPacket(conn, !flags.noCompress, p)
		if err == nil {
			s.registerAckLocked(p, pa, timeout)
			return nil
		}
		if !errors.Is(err, engine.ErrClosed) {
			return fmt.Errorf("failed to emit: %w", err)
		}
		// The connection closed a moment ago: keep it for the next one.
	}
	if len(s.sendBuffer) >= s.opts.MaxBufferedEmits {
		return fmt.Errorf("%w (%d emits waiting for the connection)", ErrBufferFull, len(s.sendBuffer))
	}
	s.sendBuffer = append(s.sendBuffer, buffered{p, !flags.noCompress})
	s.registerAckLocked(p, pa, timeout)
	return nil
}

func (s *Socket) registerAckLocked(p *parser.Packet, pa *pendingAck, timeout time.Duration) {
	if pa == nil {
		return
	}
	if s.acks == nil {
		s.acks = make(map[uint64]*pendingAck)
	}
	id := p.ID
	s.acks[id] = pa
	if timeout > 0 {
		pa.timer = time.AfterFunc(timeout, func() {
			s.mu.Lock()
			if s.acks[id] != pa {
				s.mu.Unlock()
				return
			}
			delete(s.acks, id)
			// A buffered emit that timed out is not sent any more.
			s.sendBuffer = slices.DeleteFunc(s.sendBuffer, func(b buffered) bool { return b.p == p })
			s.mu.Unlock()
			s.callAck(pa, ErrTimeout, Args{})
		})
	}
}

// dropAck forgets an acknowledgement nobody waits for any more.
func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	pa := s.acks[id]
	delete(s.acks, id)
	s.mu.Unlock()
	if pa != nil && pa.timer != nil {
		pa.timer.Stop()
	}
}

// onAck matches an ACK from the server, on the connection's reader, so
// that a handler blocked in EmitWithAck is released.
func (s *Socket) onAck(p *parser.Packet) {
	s.mu.Lock()
	pa := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if pa == nil {
		return
	}
	if pa.timer != nil {
		pa.timer.Stop()
	}
	res, err := newArgs(p, 0)
	s.callAck(pa, err, res)
}

func (s *Socket) failAck(pa *pendingAck, err error) {
	if pa.timer != nil {
		pa.timer.Stop()
	}
	s.callAck(pa, err, Args{})
}

// callAck runs a callback: inline for EmitWithAck (it only sends on a
// channel), otherwise in order with the socket's handlers.
func (s *Socket) callAck(pa *pendingAck, err error, res Args) {
	if pa.inline {
		pa.fn(err, res)
		return
	}
	s.w.push(context.Background(), func() { pa.fn(err, res) }, false)
}

// sendAck answers an acknowledgement the server asked for. Like the
// reference, it is not buffered: without a connection it fails.
func (s *Socket) sendAck(id uint64, args []any) error {
	p, err := newAckPacket(s.nsp, id, args)
	if err != nil {
		return err
	}
	conn := s.m.currentConn()
	if conn == nil || !s.Connected() {
		return ErrDisconnected
	}
	if err := s.m.sendPacket(conn, true, p); err != nil {
		return fmt.Errorf("failed to send ack: %w", err)
	}
	return nil
}
