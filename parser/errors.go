package parser

import "errors"

// Sentinel errors. Decoder errors wrap one of them with context; test with
// errors.Is. Every decoder error means the connection must be closed.
var (
	ErrEmpty              = errors.New("socket.io: empty packet")
	ErrUnknownType        = errors.New("socket.io: unknown packet type")
	ErrBadAttachments     = errors.New("socket.io: illegal attachments")
	ErrTooManyAttachments = errors.New("socket.io: too many attachments")
	ErrBadNamespace       = errors.New("socket.io: invalid namespace")
	ErrBadID              = errors.New("socket.io: invalid ack id")
	ErrInvalidPayload     = errors.New("socket.io: invalid payload")
	ErrReservedEvent      = errors.New("socket.io: reserved event name")
	ErrUnexpectedBinary   = errors.New("socket.io: binary data when no attachment is awaited")
	ErrUnexpectedText     = errors.New("socket.io: text data while attachments are awaited")
)
