package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio/internal/wsconn"
)

// Writer starts a message of type typ that is written as it is produced:
// the returned writer sends a fragment each time FragmentSize bytes have
// accumulated, so a large file never sits whole in memory. The message
// ends when the writer is closed, which must always happen: until then no
// other message goes out on the connection.
//
// Writer takes its turn in the send queue, after the messages queued
// before it, and waits for that turn until ctx is done. Each fragment must
// reach the network within WriteTimeout. For Text, the caller is
// responsible for writing valid UTF-8. Closing the connection abandons the
// message, and so does a peer that breaks the protocol while a stream from
// it is being read: the writer then returns ErrClosed and sends no final
// fragment.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != Text && typ != Binary {
		return nil, fmt.Errorf("ws: Writer needs Text or Binary, not %d", typ)
	}
	t := &streamTicket{granted: make(chan struct{}), done: make(chan struct{})}
	if err := c.enqueue(outgoing{stream: t}); err != nil {
		return nil, err
	}
	select {
	case <-t.granted:
	case <-ctx.Done():
		if t.state.CompareAndSwap(ticketWaiting, ticketCancelled) {
			return nil, fmt.Errorf("failed to wait for the connection's writer: %w", ctx.Err())
		}
		<-t.granted // granted meanwhile: give the turn back
		close(t.done)
		return nil, fmt.Errorf("failed to wait for the connection's writer: %w", ctx.Err())
	case <-c.gone:
		return nil, ErrClosed
	}
	w, err := c.wc.NextWriter(wsconn.MessageType(typ), true)
	if err != nil {
		close(t.done)
		return nil, err
	}
	return &streamWriter{c: c, t: t, w: w}, nil
}

// streamTicket is a Writer's place in the send queue.
type streamTicket struct {
	state   atomic.Int32
	granted chan struct{} // closed by the writer goroutine: the turn begins
	done    chan struct{} // closed by the stream: the turn ends
}

const (
	ticketWaiting int32 = iota
	ticketGranted
	ticketCancelled
)

// run is the writer goroutine's side: hand over the turn and wait for it
// back (or for the connection to end, if the stream is never closed).
func (t *streamTicket) run(c *Conn) error {
	if !t.state.CompareAndSwap(ticketWaiting, ticketGranted) {
		return nil // the Writer call gave up
	}
	close(t.granted)
	select {
	case <-t.done:
	case <-c.gone:
	}
	return nil
}

// streamWriter cuts a message into fragments of FragmentSize. The library
// writes a chunk larger than twice its own buffer as one frame on the
// server side, and a client's buffer is FragmentSize itself, so each chunk
// handed over becomes one frame.
type streamWriter struct {
	c      *Conn
	t      *streamTicket
	w      io.WriteCloser
	buf    []byte
	err    error
	closed bool
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if s.closed {
		return 0, errors.New("ws: write to a closed message writer")
	}
	if s.err != nil {
		return 0, s.err
	}
	size := s.c.s.fragment
	n := 0
	for len(p) > 0 {
		if len(s.buf) == 0 && len(p) >= size {
			// A whole fragment in p: hand it over without copying.
			if err := s.flush(p[:size]); err != nil {
				return n, err
			}
			p, n = p[size:], n+size
			continue
		}
		if s.buf == nil {
			s.buf = make([]byte, 0, size)
		}
		k := copy(s.buf[len(s.buf):size], p)
		s.buf = s.buf[:len(s.buf)+k]
		p, n = p[k:], n+k
		if len(s.buf) == size {
			if err := s.flush(s.buf); err != nil {
				return n, err
			}
			s.buf = s.buf[:0]
		}
	}
	return n, nil
}

func (s *streamWriter) flush(chunk []byte) error {
	if s.c.broken.Load() {
		s.err = ErrClosed
		return s.err
	}
	_ = s.c.wc.SetWriteDeadline(time.Now().Add(s.c.s.writeTimeout))
	if _, err := s.w.Write(chunk); err != nil {
		s.err = s.fail(err)
		return s.err
	}
	return nil
}

func (s *streamWriter) fail(err error) error {
	if s.c.isGone() || errors.Is(err, errCloseSent) {
		return ErrClosed
	}
	s.c.writeFailed(err)
	return fmt.Errorf("failed to write a fragment: %w", err)
}

// Close sends what is buffered as the final fragment and ends the message.
func (s *streamWriter) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	defer close(s.t.done)
	if s.err == nil && s.c.broken.Load() {
		s.err = ErrClosed // the connection is failing: no final fragment
	}
	if s.err != nil {
		return s.err
	}
	if len(s.buf) > 0 {
		if err := s.flush(s.buf); err != nil {
			return err
		}
	}
	s.buf = nil
	_ = s.c.wc.SetWriteDeadline(time.Now().Add(s.c.s.writeTimeout))
	if err := s.w.Close(); err != nil {
		s.err = s.fail(err)
		return s.err
	}
	return nil
}
