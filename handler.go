package sockio

import (
	"fmt"
	"sync/atomic"

	"github.com/sockio/sockio/internal/args"
)

// Event is an event received from a client, as raw handlers see it.
type Event struct {
	// Name is the event name.
	Name string
	// Args are the event's arguments, without the name.
	Args Args

	socket    *Socket
	ackID     uint64
	hasAck    bool
	acked     atomic.Bool
	serverAck func(args ...any) // set for events from other nodes
}

// Socket is the socket the event came from.
func (e *Event) Socket() *Socket { return e.socket }

// WantsAck reports whether the client asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.hasAck }

// Ack answers the client's acknowledgement request with args. It does
// nothing if the client asked for none or the event was already acked.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck || !e.acked.CompareAndSwap(false, true) {
		return nil
	}
	if e.serverAck != nil {
		e.serverAck(args...)
		return nil
	}
	return e.socket.sendAck(e.ackID, args)
}

// Ack is the acknowledgement function a typed handler receives as its last
// parameter when the peer asked for one (it does nothing otherwise).
type Ack = args.Ack

type eventHandler func(e *Event)

// newEventHandler adapts fn to an event handler. fn is func(*Event), or a
// function of typed parameters, optionally ending with an Ack: the
// parameter types are read once, here, not per event.
func newEventHandler(fn any) (eventHandler, error) {
	h, err := args.Handler(fn, func(e *Event) Args { return e.Args }, (*Event).ackFunc, (*Event).reportDecodeError)
	if err != nil {
		return nil, fmt.Errorf("sockio: %w", err)
	}
	return h, nil
}

func (e *Event) ackFunc() Ack {
	return func(args ...any) { _ = e.Ack(args...) }
}

// reportDecodeError passes an argument that did not decode to the socket's
// "error" handlers; the event is not handled.
func (e *Event) reportDecodeError(err error) {
	if e.socket != nil {
		e.socket.reportError(fmt.Errorf("event %q: %w", e.Name, err))
	}
}

// AckCallback receives an acknowledgement, or an error (a timeout, or the
// socket disconnected) and empty Args.
type AckCallback = args.AckCallback

// newAckCallback adapts fn: an AckCallback, func(error), or a function of
// typed parameters whose first is an error.
func newAckCallback(fn any) (AckCallback, error) {
	cb, err := args.Callback(fn)
	if err != nil {
		return nil, fmt.Errorf("sockio: %w", err)
	}
	return cb, nil
}

// splitCallback removes a trailing function from args: the ack callback.
var splitCallback = args.SplitCallback
