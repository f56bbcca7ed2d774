package client

import (
	"fmt"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/parser"
)

// encode turns a Socket.IO packet into Engine.IO message packets: the text
// part, then one binary message per attachment.
func encode(p *parser.Packet) []packet.Packet {
	text := parser.AppendText(make([]byte, 0, 8+len(p.Namespace)+len(p.Data)), p)
	out := make([]packet.Packet, 1+len(p.Attachments))
	out[0] = packet.Packet{Type: packet.Message, Data: text}
	for i, a := range p.Attachments {
		out[i+1] = packet.Packet{Type: packet.Message, Data: a, Binary: true}
	}
	return out
}

// newEventPacket builds an EVENT (or BINARY_EVENT) packet.
func newEventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	if parser.IsReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	head := make([]any, 1, len(args)+1)
	head[0] = event
	return newDataPacket(parser.Event, nsp, head, args)
}

// newAckPacket builds an ACK (or BINARY_ACK) packet for ack id.
func newAckPacket(nsp string, id uint64, args []any) (*parser.Packet, error) {
	p, err := newDataPacket(parser.Ack, nsp, make([]any, 0, len(args)), args)
	if err != nil {
		return nil, err
	}
	p.ID, p.HasID = id, true
	return p, nil
}

func newDataPacket(typ parser.Type, nsp string, head, args []any) (*parser.Packet, error) {
	all, err := appendOutgoing(head, args)
	if err != nil {
		return nil, fmt.Errorf("failed to encode arguments: %w", err)
	}
	data, atts, err := parser.EncodeData(nil, all)
	if err != nil {
		return nil, fmt.Errorf("failed to encode arguments: %w", err)
	}
	if len(atts) > 0 {
		if typ == parser.Event {
			typ = parser.BinaryEvent
		} else {
			typ = parser.BinaryAck
		}
	}
	return &parser.Packet{Type: typ, Namespace: nsp, Data: data, Attachments: atts}, nil
}
