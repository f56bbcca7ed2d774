package fastaccept

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// chanListener is the listener net/http serves: the connections the
// shortcut passes on. Closing it (hs.Shutdown and hs.Close do) closes the
// real listener too, which ends Serve, and ends the head reads in flight,
// which net/http would have closed as idle connections.
type chanListener struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu       sync.Mutex
	byServer bool // closed by hs (Shutdown, Close), not by an accept error
	reading  map[net.Conn]struct{}
}

func newChanListener(ln net.Listener) *chanListener {
	return &chanListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{}),
		reading: map[net.Conn]struct{}{}}
}

// track notes a connection whose head is being read; false means the
// listener is closed.
func (l *chanListener) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed() {
		return false
	}
	l.reading[c] = struct{}{}
	return true
}

func (l *chanListener) untrack(c net.Conn) {
	l.mu.Lock()
	delete(l.reading, c)
	l.mu.Unlock()
}

// hand passes c to net/http; pre holds bytes already read from it, which
// net/http reads first, and deadline, when set, is the end of the first
// request head's time (see prefixConn). pre is copied: the caller reuses
// its buffer.
func (l *chanListener) hand(c net.Conn, pre []byte, deadline time.Time) {
	if len(pre) > 0 || !deadline.IsZero() {
		pc := newPrefixConn(c, bytes.Clone(pre))
		pc.headDeadline = deadline
		c = pc
	}
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error { return l.close(true) }

func (l *chanListener) close(byServer bool) error {
	err := net.ErrClosed
	l.once.Do(func() {
		l.mu.Lock()
		l.byServer = byServer
		close(l.done)
		for c := range l.reading {
			_ = c.SetReadDeadline(time.Unix(1, 0)) // the read ends; serveConn closes
		}
		l.mu.Unlock()
		err = l.ln.Close()
	})
	return err
}

func (l *chanListener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *chanListener) closedByServer() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byServer
}

func (l *chanListener) Addr() net.Addr { return l.ln.Addr() }

// prefixConn replays bytes already read, then reads the connection. It
// keeps the methods net/http looks for on a *net.TCPConn: ReadFrom
// (sendfile), CloseWrite (a clean close after an error response), and
// SyscallConn once the replayed bytes are consumed.
//
// It also keeps the header timeout that started at the accept. net/http
// starts its own when it gets the connection (its first SetReadDeadline,
// now + ReadHeaderTimeout); without the clamp, a head trickled until just
// before the shortcut let go would get a second timeout. The first
// deadline net/http sets is cut to headDeadline; later ones (the body's,
// the idle wait's, the next request's) are net/http's own.
type prefixConn struct {
	net.Conn
	mu           sync.Mutex
	pre          []byte
	headDeadline time.Time // zero once used, or when there is none
}

func newPrefixConn(c net.Conn, pre []byte) *prefixConn { return &prefixConn{Conn: c, pre: pre} }

func (c *prefixConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		if len(c.pre) == 0 {
			c.pre = nil // let the copy go
		}
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

func (c *prefixConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.clamp(t))
}

func (c *prefixConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(c.clamp(t))
}

// clamp returns the earlier of t and the head's deadline the first time,
// t afterwards. A zero t is no deadline, so the head's wins.
func (c *prefixConn) clamp(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if dl := c.headDeadline; !dl.IsZero() {
		c.headDeadline = time.Time{}
		if t.IsZero() || dl.Before(t) {
			return dl
		}
	}
	return t
}

func (c *prefixConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("fastaccept: connection cannot half-close")
}

// SyscallConn gives the descriptor only when no replayed byte is left: a
// reader on the descriptor would skip them.
func (c *prefixConn) SyscallConn() (syscall.RawConn, error) {
	c.mu.Lock()
	pending := len(c.pre) > 0
	c.mu.Unlock()
	sc, ok := c.Conn.(syscall.Conn)
	if pending || !ok {
		return nil, errors.New("fastaccept: no raw access to this connection")
	}
	return sc.SyscallConn()
}
