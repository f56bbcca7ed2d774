package ws

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sockio/sockio/internal/wsconn"
)

// maxReason is the longest close reason: a control frame carries at most
// 125 bytes, two of which are the code.
const maxReason = 123

// Close starts the closing handshake: messages already queued are sent,
// then a close frame with code and reason, and the connection ends when the
// peer answers with its close frame (or after 5 s). It does not wait; Done
// is closed at the end, after OnClose.
//
// code is CloseNormal, another registered code that may be sent, or one in
// 3000-4999; CloseNoStatus sends a close frame with no body. reason is at
// most 123 bytes of UTF-8. Close on a connection that is already closing
// returns ErrClosed.
func (c *Conn) Close(code int, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	c.mu.Lock()
	if c.ReadyState() != Open {
		c.mu.Unlock()
		return ErrClosed
	}
	c.state.Store(int32(Closing))
	c.setEndLocked(code, reason, nil)
	c.closeOut = &outgoing{close: true, code: code, reason: reason}
	c.armCloseTimerLocked(closeTimeout)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	return nil
}

func checkClose(code int, reason string) error {
	if code == CloseNoStatus {
		if reason != "" {
			return errors.New("ws: a close frame without a code cannot carry a reason")
		}
		return nil
	}
	if !validSendCode(code) {
		return fmt.Errorf("ws: close code %d may not be sent (use 1000-1003, 1007-1014 or 3000-4999)", code)
	}
	if len(reason) > maxReason {
		return fmt.Errorf("ws: close reason is %d bytes, over the limit of %d", len(reason), maxReason)
	}
	if !utf8.ValidString(reason) {
		return errors.New("ws: close reason is not valid UTF-8")
	}
	return nil
}

// abort closes the connection ahead of its queue, which is dropped: the
// close frame goes out between frames of whatever is being written, and
// the connection ends when the peer answers (or after 5 s). It does not
// wait, so a send that overflows the queue returns at once.
func (c *Conn) abort(code int, reason string, err error) {
	c.mu.Lock()
	if c.ReadyState() != Open {
		c.mu.Unlock()
		return
	}
	c.state.Store(int32(Closing))
	c.setEndLocked(code, reason, err)
	c.queue, c.queuedB = nil, 0
	c.armCloseTimerLocked(closeTimeout)
	c.mu.Unlock()
	go c.writeClose(code, reason)
}

// writeClose sends our close frame. It may run beside the writer: the
// library puts control frames between the frames of a message.
func (c *Conn) writeClose(code int, reason string) {
	err := c.wc.WriteClose(code, reason, time.Now().Add(c.s.writeTimeout))
	if err != nil && !errors.Is(err, errCloseSent) {
		c.writeFailed(err)
	}
}

// fail is called on the reading goroutine when the peer broke the protocol
// or a limit: the close frame is sent (unless internal/wsconn already did),
// then the connection lingers briefly so that the peer reads the close
// frame before the TCP close instead of a reset.
func (c *Conn) fail(code int, reason string, err error) {
	c.mu.Lock()
	c.state.Store(int32(Closing))
	c.setEndLocked(code, reason, err)
	c.queue, c.queuedB = nil, 0
	c.mu.Unlock()
	if len(reason) > maxReason {
		reason = reason[:maxReason]
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	_ = c.wc.WriteClose(code, reason, time.Now().Add(time.Second))
	c.wc.Linger(2 * time.Second)
}

func (c *Conn) setEnd(code int, reason string, err error) {
	c.mu.Lock()
	c.setEndLocked(code, reason, err)
	c.mu.Unlock()
}

// setEndLocked records why the connection ends; the first cause wins.
func (c *Conn) setEndLocked(code int, reason string, err error) {
	if c.endSet {
		return
	}
	c.endSet, c.endCode, c.endReason, c.endErr = true, code, reason, err
}

func (c *Conn) armCloseTimerLocked(d time.Duration) {
	if c.closeTimer == nil {
		c.closeTimer = time.AfterFunc(d, func() { _ = c.wc.CloseNow() })
	}
}

// readFailed turns the error that ended the read loop into the end of the
// connection, sending the close frame that RFC 6455 asks for.
func (c *Conn) readFailed(err error) {
	var pe *wsconn.PeerCloseError
	switch {
	case errors.As(err, &pe):
		// The library has answered with the same code.
		c.setEnd(pe.Code, pe.Reason, nil)
	case errors.Is(err, wsconn.ErrMessageTooBig), errors.Is(err, ErrMessageTooBig):
		c.fail(CloseMessageTooBig, "message too big", fmt.Errorf("%w: %v", ErrMessageTooBig, err))
	case errors.Is(err, ErrInvalidUTF8):
		c.fail(CloseInvalidPayload, "invalid UTF-8 in text message", err)
	case errors.Is(err, wsconn.ErrInvalidPayload):
		c.fail(CloseInvalidPayload, "invalid compressed data", err)
	case errors.Is(err, wsconn.ErrProtocol):
		reason := strings.TrimPrefix(err.Error(), wsconn.ErrProtocol.Error()+": ")
		reason = strings.TrimPrefix(reason, "websocket: ")
		c.fail(CloseProtocolError, reason, err)
	default:
		// The connection broke, or we closed it (close handshake done or
		// timed out, shutdown): then the cause is already recorded.
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			err = fmt.Errorf("connection lost: %w", err)
		}
		c.setEnd(CloseAbnormal, "", err)
	}
}

// finish runs once on the reading goroutine when the connection has ended.
func (c *Conn) finish() {
	_ = c.wc.CloseNow()
	c.mu.Lock()
	c.setEndLocked(CloseAbnormal, "", nil)
	code, reason, err := c.endCode, c.endReason, c.endErr
	c.state.Store(int32(Closed))
	if c.hb != nil {
		c.hb.Stop()
		c.hb = nil
	}
	if c.closeTimer != nil {
		c.closeTimer.Stop()
	}
	c.queue, c.queuedB, c.closeOut = nil, 0, nil
	c.mu.Unlock()
	close(c.gone)
	if c.srv != nil {
		c.srv.remove(c)
	}
	if err != nil && c.s.OnError != nil {
		c.s.OnError(c, err)
	}
	if c.s.OnClose != nil {
		c.s.OnClose(c, code, reason)
	}
	close(c.done)
}
