package parser

import (
	"encoding/json"
	"strconv"
)

// Type is a Socket.IO packet type. On the wire it is the ASCII digit '0'+Type.
type Type byte

// Packet types of Socket.IO protocol v5.
const (
	Connect Type = iota
	Disconnect
	Event
	Ack
	ConnectError
	BinaryEvent
	BinaryAck
)

// numTypes bounds the valid types; anything at or above it is unknown.
const numTypes = BinaryAck + 1

var typeNames = [numTypes]string{
	"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK",
}

// String returns the protocol name of t ("CONNECT", "EVENT", ...), or
// "Type(N)" for an unknown type.
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the seven protocol types.
func (t Type) Valid() bool { return t < numTypes }

// IsBinary reports whether t carries attachments (BinaryEvent, BinaryAck).
func (t Type) IsBinary() bool { return t == BinaryEvent || t == BinaryAck }

// Packet is one decoded (or to be encoded) Socket.IO packet.
type Packet struct {
	Type      Type
	Namespace string // "/" when omitted on the wire
	ID        uint64 // ack id, valid when HasID
	HasID     bool
	// Data is the raw JSON payload, nil when absent. For binary packets it
	// holds the placeholders; see Reconstruct.
	Data json.RawMessage
	// Attachments are the binary frames of a binary packet, in order.
	Attachments [][]byte
}

// IsReserved reports whether event is a name that must not be emitted or
// received as an event, because the reference implementation gives it a
// special meaning (Socket.IO lifecycle or Node.js EventEmitter events).
func IsReserved(event string) bool {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting",
		"newListener", "removeListener":
		return true
	}
	return false
}
