package client

import (
	"fmt"
	"reflect"
	"sync/atomic"
)

// Event is an event received from the server, as raw handlers see it.
type Event struct {
	// Name is the event name.
	Name string
	// Args are the event's arguments, without the name. With
	// connection-state recovery on, the server appends the packet's offset
	// as a last string argument, as the reference client also shows it.
	Args Args

	socket *Socket
	ackID  uint64
	hasAck bool
	acked  atomic.Bool
}

// Socket is the socket the event came to.
func (e *Event) Socket() *Socket { return e.socket }

// WantsAck reports whether the server asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.hasAck }

// Ack answers the server's acknowledgement request with args. It does
// nothing if the server asked for none or the event was already acked.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck || !e.acked.CompareAndSwap(false, true) {
		return nil
	}
	return e.socket.sendAck(e.ackID, args)
}

// Ack is the acknowledgement function a typed handler receives as its last
// parameter when the server asked for one (it does nothing otherwise).
type Ack func(args ...any)

func (e *Event) ackFunc() Ack { return func(args ...any) { _ = e.Ack(args...) } }

var (
	ackType   = reflect.TypeOf(Ack(nil))
	eventType = reflect.TypeOf((*Event)(nil))
	errorType = reflect.TypeOf((*error)(nil)).Elem()
)

type eventHandler func(e *Event)

// newEventHandler adapts fn to an event handler: fn is func(*Event), or a
// function of typed parameters optionally ending with an Ack. The
// parameter types are read once, here, not per event.
func newEventHandler(fn any) (eventHandler, error) {
	switch f := fn.(type) {
	case func(*Event):
		return f, nil
	case func():
		return func(*Event) { f() }, nil
	case func(Args):
		return func(e *Event) { f(e.Args) }, nil
	case func(Args, Ack):
		return func(e *Event) { f(e.Args, e.ackFunc()) }, nil
	case func(string):
		return func(e *Event) {
			var s string
			if e.decode(0, &s) {
				f(s)
			}
		}, nil
	}
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("client: handler must be a function, got %T", fn)
	}
	t := v.Type()
	if t.IsVariadic() {
		return nil, fmt.Errorf("client: variadic handler %T not supported (use func(*client.Event))", fn)
	}
	n := t.NumIn()
	withAck := n > 0 && t.In(n-1) == ackType
	params := n
	if withAck {
		params--
	}
	types := make([]reflect.Type, params)
	for i := range types {
		types[i] = t.In(i)
		if types[i] == eventType || types[i] == ackType {
			return nil, fmt.Errorf("client: handler %T: %v only as the sole or last parameter", fn, types[i])
		}
	}
	return func(e *Event) {
		in := make([]reflect.Value, n)
		for i, typ := range types {
			p := reflect.New(typ)
			if !e.decode(i, p.Interface()) {
				return
			}
			in[i] = p.Elem()
		}
		if withAck {
			in[params] = reflect.ValueOf(e.ackFunc())
		}
		v.Call(in)
	}, nil
}

// decode decodes argument i into v; on failure the error goes to the
// socket's "error" handlers and the event is not handled.
func (e *Event) decode(i int, v any) bool {
	if err := e.Args.Decode(i, v); err != nil {
		if e.socket != nil {
			e.socket.reportError(fmt.Errorf("event %q: %w", e.Name, err))
		}
		return false
	}
	return true
}

// AckCallback receives the server's acknowledgement, or an error
// (ErrTimeout, ErrDisconnected) and empty Args.
type AckCallback func(err error, res Args)

// newAckCallback adapts fn: an AckCallback, func(error, Args), func(error),
// or a function of typed parameters whose first is an error.
func newAckCallback(fn any) (AckCallback, error) {
	switch f := fn.(type) {
	case AckCallback:
		return f, nil
	case func(error, Args):
		return f, nil
	case func(error):
		return func(err error, _ Args) { f(err) }, nil
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumIn() == 0 || t.In(0) != errorType || t.IsVariadic() {
		return nil, fmt.Errorf("client: ack callback must be func(error, ...), got %T", fn)
	}
	n := t.NumIn()
	return func(err error, res Args) {
		in := make([]reflect.Value, n)
		for i := 1; i < n; i++ {
			p := reflect.New(t.In(i))
			if err == nil {
				if derr := res.Decode(i-1, p.Interface()); derr != nil {
					err = derr
				}
			}
			in[i] = p.Elem()
		}
		if err != nil {
			in[0] = reflect.ValueOf(&err).Elem()
		} else {
			in[0] = reflect.Zero(errorType)
		}
		v.Call(in)
	}, nil
}

// splitCallback removes a trailing function from args: the ack callback.
func splitCallback(args []any) ([]any, any) {
	if n := len(args); n > 0 && args[n-1] != nil {
		if _, isAck := args[n-1].(Ack); !isAck && reflect.TypeOf(args[n-1]).Kind() == reflect.Func {
			return args[:n-1], args[n-1]
		}
	}
	return args, nil
}
