package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// phaseError says at which step of a connection an error happened.
type phaseError struct {
	phase string // dial, upgrade, open, connect
	err   error
}

func (e *phaseError) Error() string { return e.phase + ": " + e.err.Error() }
func (e *phaseError) Unwrap() error { return e.err }

// statusError is an HTTP answer other than the one expected.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP status %d", e.code) }

// protocolError is a packet the client did not expect.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

// classify names the kind of failure, for the "failures by class" report:
// "<phase>/<cause>", e.g. "dial/refused" or "connect/timeout".
func classify(err error) string {
	phase := "other"
	var pe *phaseError
	if errors.As(err, &pe) {
		phase = pe.phase
	}
	return phase + "/" + cause(err)
}

func cause(err error) string {
	var se *statusError
	var pr *protocolError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("http%d", se.code)
	case errors.As(err, &pr):
		return "protocol"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return "no-port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "no-fd"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, errServerClosed):
		return "closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}
