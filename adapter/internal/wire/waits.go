package wire

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sockio/sockio"
)

// The request and event handling that the cluster core and the classic
// Redis adapter share, whatever their wire.

// WaitErr explains why a wait for other nodes ended early: a timeout
// (wrapping sockio.ErrTimeout) or the caller's cancellation. An adapter
// checks its own close first.
func WaitErr(ctx context.Context, detail error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", detail, sockio.ErrTimeout)
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", detail, ctx.Err())
	}
	return detail
}

// RunCalls runs the functions sent on calls, in order, until ctx ends: the
// server-side event handlers, off the broker's goroutine, since a handler
// may make a request whose answers that goroutine delivers.
func RunCalls(ctx context.Context, calls <-chan func()) {
	for {
		select {
		case fn := <-calls:
			fn()
		case <-ctx.Done():
			return
		}
	}
}

// OnceAck is the acknowledgement handed to a server-side event from
// another node: its first call sends the first argument (nil, after warn,
// when it cannot be encoded); later calls do nothing, as in the reference.
func OnceAck(send func(v any), warn func(err error)) func(args ...any) {
	var once atomic.Bool
	return func(args ...any) {
		if !once.CompareAndSwap(false, true) {
			return
		}
		v, err := FirstValue(args)
		if err != nil {
			warn(err)
			v = nil
		}
		send(v)
	}
}
