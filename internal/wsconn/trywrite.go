package wsconn

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// ErrCannotTry is returned by TryWriteFrames on a connection that cannot
// write without blocking (TLS, or not Linux): use
// WriteFrames from a goroutine of its own instead.
var ErrCannotTry = errors.New("websocket connection cannot write without blocking")

// CanTryWrite reports whether TryWriteFrames can be used on c.
func (c *Conn) CanTryWrite() bool { return c.rc != nil }

// Pending is the part of a batch that the socket did not take at once. It
// holds the connection's write lock, so nothing else can be written in
// between: the owner must call Finish exactly once, from any goroutine.
type Pending struct {
	c    *Conn
	bb   *batchBuf
	iovs net.Buffers
}

// TryWriteFrames writes frames as WriteFrames does, but never waits for the
// peer: it writes what the socket buffer takes now. If that is everything
// it returns nil, nil; otherwise it returns the rest as a Pending, to be
// finished where waiting is fine. This lets one goroutine serve the writes
// of many connections and start a goroutine only for a peer that lags.
func (c *Conn) TryWriteFrames(frames []Frame) (*Pending, error) {
	if c.rc == nil {
		return nil, ErrCannotTry
	}
	plain := c.plain()
	var bb *batchBuf
	if plain {
		bb = buildBatch(frames)
	}
	c.wmu.Lock()
	if c.closeSent {
		c.wmu.Unlock()
		if bb != nil {
			bb.release()
		}
		return nil, net.ErrClosed
	}
	if !plain {
		bb = c.buildLocked(frames) // compressed in stream order, under the lock
	}
	if !c.deadline.IsZero() {
		// A deadline left by a blocking write (a pong, a close, a Finish)
		// would fail this write once it has passed: none applies here.
		_ = c.nc.SetWriteDeadline(time.Time{})
		c.deadline = time.Time{}
	}
	iovs := bb.iovs
	var werr error
	err := c.rc.Write(func(fd uintptr) bool {
		iovs, werr = writevNonblock(fd, iovs)
		return true // never wait for writability here
	})
	if err == nil {
		err = werr
	}
	switch {
	case err != nil && !errors.Is(err, syscall.EAGAIN):
		c.wmu.Unlock()
		bb.release()
		return nil, err
	case len(iovs) == 0:
		c.wmu.Unlock()
		bb.release()
		return nil, nil
	}
	return &Pending{c: c, bb: bb, iovs: iovs}, nil
}

// Finish writes the rest of the batch, waiting at most until deadline, and
// releases the write lock.
func (p *Pending) Finish(deadline time.Time) error {
	c := p.c
	defer p.bb.release()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(deadline)
	c.deadline = deadline
	_, err := p.iovs.WriteTo(c.nc)
	return err
}

// consume drops the first n bytes of bufs.
func consume(bufs net.Buffers, n int) net.Buffers {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs[0] = nil
		bufs = bufs[1:]
	}
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
