//go:build !linux

package load

import (
	"errors"
	"time"
)

// The event loop uses epoll: the WebSocket echo and broadcast scenarios
// run on Linux only (the project's machines).
type loop struct{}

type lconn struct {
	ws     *wsConn
	idx    int
	next   int64
	sent   time.Time
	wbuf   []byte
	closed bool
	err    error
}

func newLoop() (*loop, error) { return nil, errors.New("the bench's event loop needs Linux (epoll)") }

func (l *loop) add(*wsConn, int) (*lconn, error) { return nil, errors.New("unsupported") }
func (l *loop) poll(time.Duration, func(*lconn, byte, []byte)) (int, error) {
	return 0, errors.New("unsupported")
}
func (l *loop) open() int          { return 0 }
func (l *loop) drop(*lconn, error) {}
func (l *loop) close()             {}
