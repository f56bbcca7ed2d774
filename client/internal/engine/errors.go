package engine

import (
	"errors"
	"fmt"
)

// Close reasons, as the reference client names them.
const (
	ReasonTransportClose = "transport close"
	ReasonTransportError = "transport error"
	ReasonPingTimeout    = "ping timeout"
	ReasonForcedClose    = "forced close"
)

// Errors returned by Conn methods.
var (
	ErrClosed    = errors.New("engine.io: connection closed")
	ErrQueueFull = errors.New("engine.io: send queue full")
	ErrTooLarge  = errors.New("engine.io: message exceeds MaxMessageSize")
)

// HandshakeError is a refused request: the server answered with an HTTP
// error, usually carrying the Engine.IO error code and message
// ({"code":1,"message":"Session ID unknown"}).
type HandshakeError struct {
	Status  int    // HTTP status
	Code    int    // Engine.IO error code, -1 when the body had none
	Message string // Engine.IO error message, or the HTTP status text
}

func (e *HandshakeError) Error() string {
	if e.Code >= 0 {
		return fmt.Sprintf("engine.io: HTTP %d: %s (code %d)", e.Status, e.Message, e.Code)
	}
	return fmt.Sprintf("engine.io: HTTP %d: %s", e.Status, e.Message)
}
