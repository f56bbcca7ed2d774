package ws

import (
	"errors"
	"fmt"
	"io"

	"github.com/sockio/sockio/internal/wsconn"
)

// serve runs a connection to its end on the calling goroutine, which is
// the connection's reader.
func (c *Conn) serve() {
	c.wc.SetReadLimit(c.s.wireLimit())
	c.startHeartbeat()
	if c.s.readWait > 0 {
		c.touch()
	}
	if c.s.OnOpen != nil {
		c.call(func() { c.s.OnOpen(c) })
	}
	c.readLoop()
	c.finish()
}

func (c *Conn) readLoop() {
	for {
		typ, r, err := c.wc.NextReader()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.touch()
		if c.ReadyState() != Open {
			continue // closing: the next NextReader discards the message
		}
		switch {
		case MessageType(typ) == Text:
			text, err := c.readMessage(r, true)
			if err != nil {
				c.readFailed(err)
				return
			}
			if c.s.OnText != nil {
				c.call(func() { c.s.OnText(c, text) })
			}
		case c.s.OnBinaryStream != nil:
			sr := &streamReader{c: c, r: r}
			c.call(func() { c.s.OnBinaryStream(c, sr) })
			if sr.err != nil && !errors.Is(sr.err, io.EOF) {
				c.readFailed(sr.err)
				return
			}
		default:
			data, err := c.readMessage(r, false)
			if err != nil {
				c.readFailed(err)
				return
			}
			if c.s.OnBinary != nil {
				c.call(func() { c.s.OnBinary(c, data) })
			}
		}
	}
}

// call runs a handler, telling the heartbeat that silence is ours meanwhile;
// a pong that waited behind the handler counts as on time.
func (c *Conn) call(f func()) {
	c.inHandler.Store(true)
	defer func() {
		c.alive.Store(true)
		c.inHandler.Store(false)
	}()
	f()
}

// readMessage reads a whole message, bounded by MaxMessageSize and, for
// text, checked as UTF-8 chunk by chunk.
func (c *Conn) readMessage(r io.Reader, text bool) ([]byte, error) {
	var v utf8Validator
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		chunk := buf[len(buf) : len(buf)+n]
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > c.s.maxMessage {
			return nil, fmt.Errorf("%w: over %d bytes", ErrMessageTooBig, c.s.maxMessage)
		}
		if text && !v.write(chunk) {
			return nil, ErrInvalidUTF8
		}
		if n > 0 {
			c.touch()
		}
		if err == io.EOF {
			if text && !v.done() {
				return nil, fmt.Errorf("%w: the message ends inside a sequence", ErrInvalidUTF8)
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// streamReader is the reader given to OnBinaryStream.
type streamReader struct {
	c   *Conn
	r   io.Reader
	n   int64
	err error
}

func (s *streamReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if max := s.c.s.maxStream; max > 0 && s.n > max {
		s.err = fmt.Errorf("%w: stream over %d bytes", ErrMessageTooBig, max)
		s.c.broken.Store(true)
		return 0, s.err
	}
	if n > 0 {
		s.c.touch()
	}
	if err != nil {
		s.err = err
		if err != io.EOF {
			// A Writer echoing this stream must not finish its message.
			s.c.broken.Store(true)
		}
		var pe *wsconn.PeerCloseError
		if errors.As(err, &pe) {
			err = io.ErrUnexpectedEOF // the message was cut by a close
		}
	}
	return n, err
}
