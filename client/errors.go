package client

import (
	"errors"
	"fmt"

	"github.com/sockio/sockio/client/internal/engine"
	"github.com/sockio/sockio/internal/args"
)

// Errors given to acknowledgement callbacks and returned by emits.
var (
	// ErrTimeout: the acknowledgement did not come in time (the
	// reference's text).
	ErrTimeout = errors.New("operation has timed out")
	// ErrDisconnected: the connection was lost before the acknowledgement
	// came (the reference's text).
	ErrDisconnected = errors.New("socket has been disconnected")
	// ErrClosed: the socket or its manager was closed by Close.
	ErrClosed = errors.New("client: socket closed")
	// ErrBufferFull: an emit made while disconnected found the offline
	// buffer full (see Options.MaxBufferedEmits).
	ErrBufferFull = errors.New("client: offline buffer full")
	// ErrReservedEvent: the event name is reserved by the protocol.
	ErrReservedEvent = args.ErrReservedEvent
	// ErrReconnectFailed: every reconnection attempt failed
	// (Options.ReconnectionAttempts).
	ErrReconnectFailed = errors.New("client: reconnection attempts exhausted")
	// ErrQueueFull: the connection's send queue is full.
	ErrQueueFull = engine.ErrQueueFull
)

// HandshakeError is an HTTP error from the server during the Engine.IO
// handshake, with the server's error code and message when it sent them.
type HandshakeError = engine.HandshakeError

// Disconnect reasons, as the reference client names them.
const (
	ReasonIOServerDisconnect = "io server disconnect" // the server disconnected the socket
	ReasonIOClientDisconnect = "io client disconnect" // Socket.Disconnect or Close
	ReasonPingTimeout        = engine.ReasonPingTimeout
	ReasonTransportClose     = engine.ReasonTransportClose
	ReasonTransportError     = engine.ReasonTransportError
	ReasonParseError         = "parse error"
	ReasonForcedClose        = engine.ReasonForcedClose // Manager.Close
)

// ConnectError is a refusal from the server (a namespace middleware or an
// unknown namespace), with the message and data the server sent. It is
// what "connect_error" handlers get and what Connect returns for it.
type ConnectError struct {
	Message string
	Data    any // decoded JSON: map[string]any, string, float64...; nil if none
}

func (e *ConnectError) Error() string {
	if e.Data != nil {
		return fmt.Sprintf("connect error: %s (data %v)", e.Message, e.Data)
	}
	return "connect error: " + e.Message
}
