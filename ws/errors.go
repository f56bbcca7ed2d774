package ws

import (
	"errors"
	"fmt"

	"github.com/sockio/sockio/internal/wsconn"
)

// Errors returned by Conn methods and reported to OnError.
var (
	// ErrClosed is returned by a send or Close on a connection that is
	// closing or closed.
	ErrClosed = errors.New("ws: connection closed")
	// ErrQueueFull is returned by a send that would pass the send queue's
	// bounds; the connection is then closed with 1008.
	ErrQueueFull = errors.New("ws: send queue full")
	// ErrMessageTooBig reports a message past MaxMessageSize or
	// MaxStreamSize; the connection is closed with 1009.
	ErrMessageTooBig = errors.New("ws: message too big")
	// ErrInvalidUTF8 reports a text message that is not valid UTF-8; the
	// connection is closed with 1007 as soon as the first bad byte arrives.
	ErrInvalidUTF8 = errors.New("ws: invalid UTF-8 in text message")
	// ErrProtocol reports a peer that broke RFC 6455; the connection is
	// closed with 1002.
	ErrProtocol = wsconn.ErrProtocol
	// ErrPongTimeout reports a peer that did not answer a heartbeat ping.
	ErrPongTimeout = errors.New("ws: pong timeout")
	// ErrWriteTimeout reports a peer that did not read for WriteTimeout.
	ErrWriteTimeout = errors.New("ws: write timeout")
	// ErrServerClosed is returned by ListenAndServe and Serve after Shutdown.
	ErrServerClosed = errors.New("ws: server closed")
)

// CloseError is a close code and reason, as carried by a close frame.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("ws: closed with %d %q", e.Code, e.Reason)
}

// Close codes of RFC 6455 section 7.4.1 and the IANA registry.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	CloseNoStatus        = 1005 // reported, never sent: the close frame had no code
	CloseAbnormal        = 1006 // reported, never sent: no close frame at all
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	CloseMandatoryExt    = 1010
	CloseInternalError   = 1011
	CloseServiceRestart  = 1012
	CloseTryAgainLater   = 1013
	CloseBadGateway      = 1014
)

// validSendCode reports whether code may be put in a close frame: the
// registered codes that are not reserved for reporting, and the ranges for
// libraries (3000-3999) and applications (4000-4999).
func validSendCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

var errCloseSent = wsconn.ErrCloseSent
