package wsconn

import (
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/sockio/sockio/internal/netpoll"
)

// Reading from a poller: instead of a goroutine per connection parked in
// Read, a shared poller goroutine calls back when bytes arrive (Watch);
// the callback reads them without waiting (FillNow) and takes the messages
// they complete (ReadBuffered). Whatever cannot be done without waiting (a
// frame larger than the buffer, a ping to answer, a protocol error to
// close with, an EOF to report) is left to Read, called from a goroutine
// that the callback starts after Unwatch; that goroutine may Watch again
// once the connection is idle.

// Watch calls onReadable on a shared poller goroutine whenever bytes (or an
// EOF) wait to be read, until Unwatch or Close. onReadable must not block.
// It fails with netpoll.ErrUnsupported for a connection that does not read
// its own frames from a plain socket (not in batch mode, compression, TLS,
// or not Linux).
func (c *Conn) Watch(onReadable func()) error {
	if c.rr == nil || c.rc == nil {
		return netpoll.ErrUnsupported
	}
	// Held until c.watch is set: onReadable may run at once, and its
	// Unwatch must find the watch.
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	w, err := netpoll.Start(c.rc, onReadable)
	if err != nil {
		return err
	}
	c.watch = w
	return nil
}

// Unwatch ends Watch; onReadable is not called after it returns, unless
// from a call already under way on another goroutine.
func (c *Conn) Unwatch() {
	c.pmu.Lock()
	w := c.watch
	c.watch = nil
	c.pmu.Unlock()
	if w != nil {
		w.Stop()
	}
}

// markClosed stops the watch for good, before the socket is closed.
func (c *Conn) markClosed() {
	c.pmu.Lock()
	c.closed = true
	c.pmu.Unlock()
	c.Unwatch()
}

// FillNow reads what the socket holds now into the connection's buffer,
// without waiting. It returns false once the connection failed or ended:
// Read then reports why.
func (c *Conn) FillNow() bool {
	fr := c.rr
	if fr == nil || fr.err != nil {
		return false
	}
	if fr.buf != nil {
		if fr.w == len(*fr.buf) {
			return true // full: take a message first
		}
		if fr.r > 0 {
			b := *fr.buf
			fr.w = copy(b, b[fr.r:fr.w])
			fr.r = 0
		}
	}
	partial := fr.buf != nil
	var n int
	var rerr error
	err := fr.rc.Read(func(fd uintptr) bool {
		n, rerr = readFD(fd, fr.space(nil))
		return true // never wait
	})
	switch {
	case err == nil && rerr == syscall.EAGAIN:
		fr.releaseEmpty() // woken for nothing
		return true
	case err != nil:
		fr.err = err
	case rerr != nil:
		fr.err = fmt.Errorf("failed to read websocket: %w", rerr)
	case n <= 0:
		fr.err = io.EOF
		if partial {
			fr.err = io.ErrUnexpectedEOF // a frame was cut off
		}
	default:
		fr.got(n, nil)
		return true
	}
	fr.releaseEmpty()
	return false
}

// ReadBuffered returns the next data message if the bytes already read
// hold all of it and no control frame comes first, so that neither the
// socket nor a write is needed; ok is false otherwise. A message that
// breaks the protocol (invalid UTF-8) is not returned: NeedsReader then
// reports true and Read fails with the close frame it calls for.
func (c *Conn) ReadBuffered() (typ MessageType, data []byte, ok bool) {
	fr := c.rr
	if fr == nil || fr.err != nil || !fr.messageBuffered() {
		return 0, nil, false
	}
	fr.deferred = true
	typ, data, err := fr.Read()
	fr.deferred = false
	if err != nil {
		fr.err = err
		return 0, nil, false
	}
	return typ, data, true
}

// NeedsReader reports whether something is left that only Read can take:
// bytes of a message not complete yet, a control frame, or a failure.
func (c *Conn) NeedsReader() bool {
	return c.rr != nil && (c.rr.buf != nil || c.rr.err != nil)
}

// messageBuffered reports whether the buffer holds the next data message
// whole, in frames with valid headers, within the size limit and with no
// control frame among them: next then reads it from the buffer alone.
func (fr *frameReader) messageBuffered() bool {
	if fr.buf == nil {
		return false
	}
	b := (*fr.buf)[fr.r:fr.w]
	var total uint64
	started := false
	for {
		h, n, bad := parseHeader(b)
		if n == 0 || bad != "" || h.op >= 8 || (h.op == 0) != started {
			return false
		}
		started = true
		total += h.length
		if total > fr.maxLen() || h.length > uint64(len(b)-n) {
			return false
		}
		if h.fin {
			return true
		}
		b = b[n+int(h.length):]
	}
}
