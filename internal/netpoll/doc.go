// Package netpoll calls a function when a socket has bytes to read, for
// many sockets from one goroutine, so that a connection waiting for its
// peer needs no goroutine (and no stack) of its own.
//
// A poller is an epoll instance whose own descriptor is watched by Go's
// runtime poller: its goroutine parks in the runtime like any reader and
// is woken when one of its sockets becomes ready, so it costs nothing
// while idle and cooperates with the scheduler (GOMAXPROCS=1 included).
// Sockets are watched level-triggered: a callback may read once and leave
// the rest for its next turn, and an EOF that arrives together with the
// last bytes is still reported, which Go's edge-triggered poller would
// not do for a reader that skips the read returning EAGAIN.
//
// It is Linux-only; elsewhere Start reports ErrUnsupported and callers
// keep a goroutine per connection.
package netpoll

import "errors"

// ErrUnsupported is returned by Start where there is no poller (not
// Linux) or no descriptor to watch.
var ErrUnsupported = errors.New("netpoll: not supported for this connection")
