package packet

import (
	"errors"
	"fmt"
	"strconv"
)

// Type is an Engine.IO packet type. On the wire it is the ASCII digit '0'+Type.
type Type byte

// Packet types of Engine.IO v4.
const (
	Open Type = iota
	Close
	Ping
	Pong
	Message
	Upgrade
	Noop
)

// numTypes bounds the valid types; anything at or above it is unknown.
const numTypes = Noop + 1

var typeNames = [numTypes]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol name of t ("open", "close", ...), or "Type(N)"
// for an unknown type.
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the seven protocol types.
func (t Type) Valid() bool { return t < numTypes }

// Separator separates the packets of a polling payload (ASCII record separator).
const Separator = 0x1e

// Packet is one Engine.IO packet.
//
// Packets returned by DecodeText (text form), DecodeBinary and DecodePayload
// have Data aliasing the input buffer: copy Data if it must outlive that
// buffer or if the buffer is reused. Decoded Data has its capacity capped at
// its length, so appending to it never overwrites the rest of the input.
type Packet struct {
	Type   Type
	Data   []byte // may alias the buffer the packet was decoded from
	Binary bool   // only with Type == Message: Data is binary
}

// Sentinel errors. Returned errors wrap them with context; test with errors.Is.
var (
	ErrEmpty            = errors.New("packet: empty packet")
	ErrUnknownType      = errors.New("packet: unknown packet type")
	ErrBadBase64        = errors.New("packet: invalid base64 data")
	ErrBinaryNotMessage = errors.New("packet: binary data in a non-message packet")
	ErrTooManyPackets   = errors.New("packet: too many packets in payload")
)

// Validate reports whether p can be encoded faithfully: its type must be
// known (ErrUnknownType) and only messages may be binary (ErrBinaryNotMessage).
// The encoders do not validate, so senders should call it on packets they
// did not build from constants.
func (p Packet) Validate() error {
	if !p.Type.Valid() {
		return fmt.Errorf("%w %d", ErrUnknownType, p.Type)
	}
	if p.Binary && p.Type != Message {
		return fmt.Errorf("%w: %s", ErrBinaryNotMessage, p.Type)
	}
	return nil
}
