package args

import (
	"fmt"
	"reflect"
)

// Ack is the acknowledgement function a typed handler receives as its last
// parameter (sockio.Ack and client.Ack are it).
type Ack = func(args ...any)

// AckCallback receives an acknowledgement, or an error (a timeout, a lost
// connection) and empty Args (sockio.AckCallback and client.AckCallback).
type AckCallback = func(err error, res Args)

var (
	ackType   = reflect.TypeOf(Ack(nil))
	errorType = reflect.TypeOf((*error)(nil)).Elem()
)

// Typed adapts fn, a function of typed parameters optionally ending with
// an Ack, to a call on an event's Args. The parameter types are read once,
// here; each call decodes with Args.Decode and returns the first decoding
// error instead of calling fn. forbidden lists parameter types that only
// make sense alone (the package's *Event).
func Typed(fn any, forbidden ...reflect.Type) (func(a Args, ack Ack) error, error) {
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("handler must be a function, got %T", fn)
	}
	t := v.Type()
	if t.IsVariadic() {
		return nil, fmt.Errorf("variadic handler %T not supported (use a func(*Event))", fn)
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
		for _, f := range append(forbidden, ackType) {
			if types[i] == f {
				return nil, fmt.Errorf("handler %T: %v only as the sole or last parameter", fn, f)
			}
		}
	}
	return func(a Args, ack Ack) error {
		in := make([]reflect.Value, n)
		for i, typ := range types {
			p := reflect.New(typ)
			if err := a.Decode(i, p.Interface()); err != nil {
				return err
			}
			in[i] = p.Elem()
		}
		if withAck {
			in[params] = reflect.ValueOf(ack)
		}
		v.Call(in)
		return nil
	}, nil
}

// Callback adapts fn to an AckCallback: an AckCallback, func(error), or a
// function of typed parameters whose first is an error (a decoding error
// is passed there).
func Callback(fn any) (AckCallback, error) {
	switch f := fn.(type) {
	case AckCallback:
		return f, nil
	case func(error):
		return func(err error, _ Args) { f(err) }, nil
	}
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("ack callback must be func(error, ...), got %T", fn)
	}
	t := v.Type()
	if t.NumIn() == 0 || t.In(0) != errorType || t.IsVariadic() {
		return nil, fmt.Errorf("ack callback must be func(error, ...), got %T", fn)
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

// SplitCallback removes a trailing function (not an Ack) from values: the
// acknowledgement callback of an emit.
func SplitCallback(values []any) ([]any, any) {
	if n := len(values); n > 0 && values[n-1] != nil {
		if _, isAck := values[n-1].(Ack); !isAck && reflect.TypeOf(values[n-1]).Kind() == reflect.Func {
			return values[:n-1], values[n-1]
		}
	}
	return values, nil
}

// Handler adapts fn to a handler of events of type E (each side's *Event):
// fn is func(E), func(), func(Args), func(Args, Ack), or a function of typed
// parameters optionally ending with an Ack (see Typed). argsOf and ackOf
// read an event; onErr gets an argument that did not decode.
func Handler[E any](fn any, argsOf func(E) Args, ackOf func(E) Ack, onErr func(E, error)) (func(E), error) {
	switch f := fn.(type) {
	case func(E):
		return f, nil
	case func():
		return func(E) { f() }, nil
	case func(Args):
		return func(e E) { f(argsOf(e)) }, nil
	case func(Args, Ack):
		return func(e E) { f(argsOf(e), ackOf(e)) }, nil
	}
	call, err := Typed(fn, reflect.TypeFor[E]())
	if err != nil {
		return nil, err
	}
	return func(e E) {
		if err := call(argsOf(e), ackOf(e)); err != nil {
			onErr(e, err)
		}
	}, nil
}
