package wsconn

import (
	"errors"
	"net"
	"syscall"

	"github.com/sockio/sockio/internal/netpoll"
)

// Reading from a poller: instead of a goroutine per connection parked in
// Read, a shared poller goroutine calls back when bytes arrive (Watch);
// the callback reads them without waiting (FillNow) and takes the messages
// they complete (ReadBuffered), leaving the start of one that fits the
// buffer for the next call. Whatever cannot be done without waiting (a
// message larger than the buffer, a ping to answer, a protocol error to
// close with, an EOF to report) is left to Read, called from a goroutine
// that the callback starts after Unwatch; that goroutine may Watch again
// once the connection is idle.
//
// FillNow makes one read per call and never the one that returns EAGAIN:
// safe only because the poller is level-triggered (it reports the socket
// again while bytes or an EOF remain), unlike Go's own poller.

// Watch calls onReadable on a shared poller goroutine whenever bytes (or an
// EOF) wait to be read, until Unwatch, Close or CloseNow. onReadable must
// not block. It fails with netpoll.ErrUnsupported for a connection that
// is not on a plain socket (TLS, or not Linux), and with errWatchBuffered while bytes
// already read wait in the buffer (the poller only hears of new ones).
func (c *Conn) Watch(onReadable func()) error {
	if c.rr == nil || c.rc == nil {
		return netpoll.ErrUnsupported
	}
	if c.rr.buf != nil || c.rr.err != nil || c.rr.readErr != nil {
		return errWatchBuffered
	}
	// Held until c.watch is set: onReadable may run at once, and its
	// Unwatch must find the watch.
	c.pmu.Lock()
	defer c.pmu.Unlock()
	switch {
	case c.closed:
		return net.ErrClosed
	case c.watch != nil:
		return errWatched
	}
	w, err := netpoll.Start(c.rc, onReadable)
	if err != nil {
		return err
	}
	c.watch = w
	return nil
}

var (
	errWatchBuffered = errors.New("websocket connection has bytes buffered: Read them first")
	errWatched       = errors.New("websocket connection already watched")
)

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
	if fr == nil || fr.err != nil || fr.readErr != nil {
		return false
	}
	if fr.buf != nil {
		if fr.r > 0 { // the start of a message: to the front
			b := *fr.buf
			fr.w = copy(b, b[fr.r:fr.w])
			fr.r = 0
		}
		if fr.w == len(*fr.buf) {
			return true // full: a message to take, or one for Read
		}
	}
	switch _, err := fr.read1(nil, false); err {
	case nil, syscall.EAGAIN:
		return true
	default:
		// Read meets it where a waiting read would have: after what is
		// buffered, so it tells a cut frame from a clean end the same way.
		fr.readErr = err
		return false
	}
}

// ReadBuffered returns the next data message if the bytes already read
// hold all of it and no control frame comes first, so that neither the
// socket nor a write is needed; ok is false otherwise. A message that
// breaks the protocol (invalid UTF-8) is not returned: NeedsReader then
// reports true and Read fails with the close frame it calls for.
func (c *Conn) ReadBuffered() (typ MessageType, data []byte, ok bool) {
	fr := c.rr
	if fr == nil || fr.err != nil {
		return 0, nil, false
	}
	if complete, _ := fr.scan(); !complete {
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
// a message that cannot complete within the read buffer, a control frame,
// or a failure. The start of a message that can is left where it is, for
// the next FillNow.
func (c *Conn) NeedsReader() bool {
	fr := c.rr
	if fr == nil {
		return false
	}
	_, fits := fr.scan()
	return fr.err != nil || fr.readErr != nil || !fits
}

// scan reports whether the buffer holds the next data message whole
// (complete), in frames with valid headers, within the size limit and with
// no control frame among them, so that next reads it from the buffer
// alone; and, if not, whether more bytes could still complete it there
// (fits).
func (fr *frameReader) scan() (complete, fits bool) {
	if fr.buf == nil {
		return false, true
	}
	b := (*fr.buf)[fr.r:fr.w]
	off := 0 // where the frame at hand starts in b
	var total uint64
	started, compressed := false, false
	for {
		h, n, bad := parseHeader(b[off:], !fr.c.client, fr.c.defl != nil)
		switch {
		case bad != "":
			return false, false
		case n == 0:
			return false, len(b) < readBufSize // room for the rest of the header
		case h.op >= 8 || (h.op == 0) != started:
			return false, false
		}
		if !started {
			compressed = h.rsv1
		}
		started = true
		total += h.length
		if total > fr.wireLimit(compressed) {
			return false, false
		}
		end := uint64(off+n) + h.length
		if end > uint64(len(b)) {
			return false, end <= readBufSize // FillNow moves b to the buffer's start
		}
		if h.fin {
			return true, true
		}
		off = int(end)
	}
}
