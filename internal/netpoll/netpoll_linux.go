//go:build linux

package netpoll

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxPollers bounds the pollers of a process; each serves its share of the
// connections on one goroutine.
const maxPollers = 8

// poller runs the callbacks of the sockets it watches, one at a time, on a
// goroutine of its own.
type poller struct {
	epfd int
	file *os.File // epfd, as seen by the runtime poller
	rc   syscall.RawConn

	mu      sync.Mutex
	slots   []slot
	free    []uint32
	live    int  // registrations
	running bool // a goroutine runs run; it ends when live drops to 0
}

// slot is one registration; gen tells a live one from a reused index, so
// an event fetched before Stop is never delivered after it.
type slot struct {
	gen uint32
	fn  func()
}

// Watch is a socket's registration with a poller.
type Watch struct {
	p   *poller
	rc  syscall.RawConn
	id  uint32
	gen uint32
}

var (
	pollersMu sync.Mutex
	pollers   []*poller // made on first use, then kept for the process
	next      atomic.Uint32
)

// Start watches rc: fn is called on a poller's goroutine whenever the
// socket has bytes to read, or its peer closed or reset it, until Stop.
// fn must not block: every socket of its poller waits for it. It may call
// Stop (and hand the socket to a goroutine of its own) or leave bytes
// unread, in which case it is called again on the poller's next round.
func Start(rc syscall.RawConn, fn func()) (*Watch, error) {
	if rc == nil {
		return nil, ErrUnsupported
	}
	ps, err := getPollers()
	if err != nil {
		return nil, err
	}
	return ps[next.Add(1)%uint32(len(ps))].add(rc, fn)
}

// getPollers makes one poller per core (up to maxPollers) on first use;
// a failure is returned and tried again next time. A poller's goroutine
// runs only while it has sockets to watch.
func getPollers() ([]*poller, error) {
	pollersMu.Lock()
	defer pollersMu.Unlock()
	if pollers != nil {
		return pollers, nil
	}
	n := min(runtime.GOMAXPROCS(0), maxPollers)
	ps := make([]*poller, 0, n)
	for range n {
		p, err := newPoller()
		if err != nil {
			for _, p := range ps {
				_ = p.file.Close()
			}
			return nil, err
		}
		ps = append(ps, p)
	}
	pollers = ps
	return ps, nil
}

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("failed to create epoll instance: %w", err)
	}
	// Non-blocking, so that os.NewFile hands it to the runtime poller.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return nil, fmt.Errorf("failed to set epoll instance non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(epfd), "netpoll")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("failed to watch epoll instance: %w", err)
	}
	return &poller{epfd: epfd, file: f, rc: rc}, nil
}

func (p *poller) add(rc syscall.RawConn, fn func()) (*Watch, error) {
	p.mu.Lock()
	var id uint32
	if n := len(p.free); n > 0 {
		id = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		id = uint32(len(p.slots))
		p.slots = append(p.slots, slot{})
	}
	p.slots[id].fn = fn
	w := &Watch{p: p, rc: rc, id: id, gen: p.slots[id].gen}
	p.live++
	if !p.running {
		p.running = true
		_ = p.file.SetReadDeadline(time.Time{}) // the last goroutine's wake-up
		go p.run()
	}
	p.mu.Unlock()

	var cerr error
	err := rc.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(w.id), Pad: int32(w.gen)}
		cerr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		p.release(w.id, w.gen)
		return nil, fmt.Errorf("failed to watch socket: %w", err)
	}
	return w, nil
}

// release frees a live slot; it reports false if it was already free.
func (p *poller) release(id, gen uint32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.slots[id]
	if s.gen != gen || s.fn == nil {
		return false
	}
	s.fn = nil
	s.gen++
	p.free = append(p.free, id)
	p.live--
	if p.live == 0 {
		// Wake the goroutine so that it ends (see run).
		_ = p.file.SetReadDeadline(time.Now())
	}
	return true
}

// Stop ends the watch; fn is not called after Stop returns, unless Stop
// runs concurrently with a call already under way. It may be called more
// than once, from any goroutine, also after the socket was closed.
func (w *Watch) Stop() {
	if !w.p.release(w.id, w.gen) {
		return
	}
	// A closed socket has left the epoll set by itself (Control fails).
	_ = w.rc.Control(func(fd uintptr) {
		_ = syscall.EpollCtl(w.p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
}

// lookup returns the callback of a live registration, or nil.
func (p *poller) lookup(id, gen uint32) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if int(id) >= len(p.slots) || p.slots[id].gen != gen {
		return nil
	}
	return p.slots[id].fn
}

func (p *poller) run() {
	events := make([]syscall.EpollEvent, 128)
	for {
		var n int
		err := p.rc.Read(func(uintptr) bool {
			n = wait(p.epfd, events)
			return n > 0 // none: park until the runtime sees epfd readable
		})
		if err != nil {
			// release found no socket left (the deadline), or something
			// unexpected: either way, end if there is nothing to watch.
			// Decided under mu, where add counts a new socket in (and
			// starts a goroutine if this one ends).
			p.mu.Lock()
			if p.live == 0 {
				p.running = false
				p.mu.Unlock()
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				_ = p.file.SetReadDeadline(time.Time{})
			}
			p.mu.Unlock()
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				time.Sleep(time.Millisecond) // never seen; do not spin on it
			}
			continue
		}
		for _, ev := range events[:n] {
			// Looked up one at a time: an earlier callback may have
			// stopped a later one's watch.
			if fn := p.lookup(uint32(ev.Fd), uint32(ev.Pad)); fn != nil {
				fn()
			}
		}
		// Let the goroutines these callbacks woke (handlers, writers)
		// run before the next round: their replies then leave together,
		// and nothing waits behind a busy poller.
		runtime.Gosched()
	}
}

// wait fetches the ready events without blocking.
func wait(epfd int, events []syscall.EpollEvent) int {
	for {
		n, err := syscall.EpollWait(epfd, events, 0)
		if err != syscall.EINTR {
			return max(n, 0)
		}
	}
}
