package ws

import (
	"errors"
	"fmt"
	"time"

	"github.com/sockio/sockio/internal/wsconn"
)

// outgoing is one entry of the send queue.
type outgoing struct {
	typ      MessageType
	data     []byte
	n        int              // bytes counted against MaxQueuedBytes
	prepared *wsconn.Prepared // a broadcast, encoded once for all
	stream   *streamTicket    // a turn for a Writer
	close    bool             // our close frame
	code     int
	reason   string
}

func (o *outgoing) size() int { return o.n }

// SendText queues a text message; text must be valid UTF-8 (it is not
// checked, as the peer will). It does not wait for the network: an error
// means the connection is closed or its send queue is full (and the
// connection is being closed with 1008). The text is copied.
func (c *Conn) SendText(text []byte) error {
	return c.enqueue(outgoing{typ: Text, data: append([]byte(nil), text...), n: len(text)})
}

// SendBinary queues a binary message; see SendText. The data is copied.
func (c *Conn) SendBinary(data []byte) error {
	return c.enqueue(outgoing{typ: Binary, data: append([]byte(nil), data...), n: len(data)})
}

// enqueue adds o to the send queue and starts the writer if none runs.
func (c *Conn) enqueue(o outgoing) error {
	c.mu.Lock()
	if c.ReadyState() != Open || c.closeOut != nil {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.queue) > 0 && (len(c.queue) >= c.s.maxQueued || c.queuedB+o.size() > c.s.maxQueuedB) {
		err := fmt.Errorf("%w: %d messages, %d bytes waiting", ErrQueueFull, len(c.queue), c.queuedB)
		c.mu.Unlock()
		c.abort(ClosePolicyViolation, "send queue full", err)
		return err
	}
	c.queue = append(c.queue, o)
	c.queuedB += o.size()
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	return nil
}

// writeLoop drains the queue; it runs only while the queue is not empty, so
// an idle connection has no writer goroutine.
func (c *Conn) writeLoop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			cl := c.closeOut
			c.closeOut = nil
			c.writing = false
			c.queue = nil // an idle connection keeps no queue memory
			c.mu.Unlock()
			if cl != nil {
				c.writeClose(cl.code, cl.reason)
			}
			return
		}
		o := c.queue[0]
		c.queue[0] = outgoing{}
		c.queue = c.queue[1:]
		c.queuedB -= o.size()
		c.mu.Unlock()

		if err := c.write(&o); err != nil {
			c.writeFailed(err)
			c.mu.Lock()
			c.queue, c.queuedB, c.closeOut, c.writing = nil, 0, nil, false
			c.mu.Unlock()
			return
		}
	}
}

func (c *Conn) write(o *outgoing) error {
	if o.stream != nil {
		return o.stream.run(c)
	}
	_ = c.wc.SetWriteDeadline(time.Now().Add(c.s.writeTimeout))
	if o.prepared != nil {
		return c.wc.WritePrepared(o.prepared)
	}
	return c.wc.Write(wsconn.MessageType(o.typ), nil, o.data, true)
}

// writeFailed ends a connection whose write failed: the peer stopped
// reading (timeout) or the connection broke. A close frame cannot follow a
// half-written frame, so the TCP connection is closed at once.
func (c *Conn) writeFailed(err error) {
	if errors.Is(err, errCloseSent) || c.isGone() {
		return // a close frame went out (ours or the reply): no more writes
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("%w after %v", ErrWriteTimeout, c.s.writeTimeout)
	} else {
		err = fmt.Errorf("failed to write: %w", err)
	}
	c.setEnd(CloseAbnormal, "", err)
	_ = c.wc.CloseNow()
}

func (c *Conn) isGone() bool {
	select {
	case <-c.gone:
		return true
	default:
		return false
	}
}
