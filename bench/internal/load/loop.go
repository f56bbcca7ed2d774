//go:build linux

package load

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// loop is the load generator's receive side: one goroutine waits on an
// epoll set of every client socket and reads whichever is ready. Thousands
// of clients then cost one read syscall per batch of frames and no
// goroutine switch, so one core can take the fan-out of a fast server;
// with a goroutine per client, waking 10,000 goroutines per broadcast made
// the load generator, not the server, the bottleneck.
//
// The sockets stay owned by their net.Conn (kept open, used for writes);
// the loop only reads them, directly, while Go's poller has no reader
// waiting on them.
type loop struct {
	epfd   int
	conns  map[int32]*lconn
	rbuf   []byte
	events []syscall.EpollEvent
}

// lconn is one client connection in the loop.
type lconn struct {
	ws      *wsConn
	fd      int
	pending []byte // a partial frame carried over to the next read
	frag    []byte // a fragmented message being joined
	fragOp  byte
	closed  bool
	err     error

	idx  int   // the scenario's index of the client
	next int64 // echo: the id of the answer awaited
	sent time.Time
	wbuf []byte
}

func newLoop() (*loop, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("failed to create an epoll set: %w", err)
	}
	return &loop{epfd: fd, conns: map[int32]*lconn{}, rbuf: make([]byte, 64<<10), events: make([]syscall.EpollEvent, 512)}, nil
}

// add moves a connected client into the loop, with whatever its handshake
// reader had already buffered.
func (l *loop) add(ws *wsConn, idx int) (*lconn, error) {
	tc, ok := ws.nc.(*net.TCPConn)
	if !ok {
		return nil, errors.New("not a TCP connection")
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("failed to reach the socket: %w", err)
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return nil, fmt.Errorf("failed to reach the socket: %w", err)
	}
	c := &lconn{ws: ws, fd: fd, idx: idx}
	if n := ws.fr.br.Buffered(); n > 0 {
		b, _ := ws.fr.br.Peek(n)
		c.pending = append([]byte(nil), b...)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return nil, fmt.Errorf("failed to watch the socket: %w", err)
	}
	l.conns[int32(fd)] = c
	return c, nil
}

// poll waits up to timeout for readable sockets and hands every complete
// data message to onMsg (msg is valid during the call only). It returns
// the number of sockets read.
func (l *loop) poll(timeout time.Duration, onMsg func(c *lconn, op byte, msg []byte)) (int, error) {
	ms := int(timeout / time.Millisecond)
	if timeout > 0 && ms == 0 {
		ms = 1
	}
	n, err := syscall.EpollWait(l.epfd, l.events, ms)
	if err != nil {
		if errors.Is(err, syscall.EINTR) {
			return 0, nil
		}
		return 0, fmt.Errorf("epoll_wait: %w", err)
	}
	for i := 0; i < n; i++ {
		c := l.conns[l.events[i].Fd]
		if c == nil || c.closed {
			continue
		}
		l.read(c, onMsg)
	}
	return n, nil
}

// read reads what the socket has (level-triggered: what is left is
// reported again) and dispatches the complete frames.
func (l *loop) read(c *lconn, onMsg func(c *lconn, op byte, msg []byte)) {
	m, err := syscall.Read(c.fd, l.rbuf)
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			return
		}
		l.drop(c, err)
		return
	}
	if m == 0 {
		l.drop(c, errServerClosed)
		return
	}
	data := l.rbuf[:m]
	if len(c.pending) > 0 {
		c.pending = append(c.pending, data...)
		data = c.pending
	}
	for len(data) > 0 {
		fin, op, payload, size, err := parseFrame(data)
		if err != nil {
			l.drop(c, err)
			return
		}
		if size == 0 {
			break
		}
		data = data[size:]
		if err := l.frame(c, fin, op, payload, onMsg); err != nil {
			l.drop(c, err)
			return
		}
	}
	// Keep the partial frame; copy it, as rbuf is reused.
	c.pending = append(c.pending[:0], data...)
}

func (l *loop) frame(c *lconn, fin bool, op byte, payload []byte, onMsg func(c *lconn, op byte, msg []byte)) error {
	switch op {
	case opPing:
		return c.ws.write(opPong, payload)
	case opPong:
		return nil
	case opClose:
		return errServerClosed
	case opText, opBinary:
		if fin {
			onMsg(c, op, payload)
			return nil
		}
		c.fragOp, c.frag = op, append(c.frag[:0], payload...)
	case opContinuation:
		if c.fragOp == 0 {
			return errors.New("continuation frame without a start")
		}
		var err error
		if c.frag, err = appendFragment(c.frag, payload); err != nil {
			return err
		}
		if fin {
			op := c.fragOp
			c.fragOp = 0
			onMsg(c, op, c.frag)
		}
	default:
		return fmt.Errorf("unknown opcode %#x", op)
	}
	return nil
}

func (l *loop) drop(c *lconn, err error) {
	c.closed, c.err = true, err
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	delete(l.conns, int32(c.fd))
}

// open reports the connections still in the loop.
func (l *loop) open() int { return len(l.conns) }

// close stops watching; the connections stay open for their owner to close.
func (l *loop) close() {
	for fd := range l.conns {
		_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	}
	_ = syscall.Close(l.epfd)
}
