package wsconn

import (
	"errors"
	"fmt"
)

// Unread reports how many bytes the peer has sent that no Read has
// returned yet: what the kernel holds for the socket plus what this
// connection has read from it but not delivered. It may be called from
// any goroutine, while another reads. A caller uses it to tell whether a
// message was sent before something that came on another connection.
//
// It fails, wrapping errors.ErrUnsupported, where the count cannot be
// known: not Linux, or not a plain socket (TLS).
func (c *Conn) Unread() (int, error) {
	if c.rr == nil || c.rc == nil {
		return 0, fmt.Errorf("wsconn: unread bytes: %w", errors.ErrUnsupported)
	}
	var n int
	var ierr error
	if err := c.rc.Control(func(fd uintptr) { n, ierr = inQueue(fd) }); err != nil {
		return 0, fmt.Errorf("wsconn: unread bytes: %w", err)
	}
	if ierr != nil {
		return 0, fmt.Errorf("wsconn: unread bytes: %w", ierr)
	}
	return n + int(c.rr.held.Load()), nil
}
