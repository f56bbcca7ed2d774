package client

import (
	"github.com/sockio/sockio/client/internal/engine"
	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/internal/args"
	"github.com/sockio/sockio/parser"
)

// The packet builders are shared with the server (package sockio).
var (
	newEventPacket = args.EventPacket
	newAckPacket   = args.AckPacket
)

// codec is the manager's packet format (Options.Parser).
func (m *Manager) codec() parser.Codec {
	if m.opts.Parser != nil {
		return m.opts.Parser
	}
	return parser.Default
}

// encode writes p in the manager's format. Only data the format cannot
// hold fails (MessagePack nests 1000 deep, JSON 10000).
func (m *Manager) encode(p *parser.Packet) ([]packet.Packet, error) {
	return args.EncodeWith(m.opts.Parser, p)
}

// sendPacket encodes p and sends it on conn; an encoding error sends
// nothing, for the packets whose sender has nobody to tell.
func (m *Manager) sendPacket(conn *engine.Conn, compress bool, p *parser.Packet) error {
	enc, err := m.encode(p)
	if err != nil {
		return err
	}
	return conn.Send(compress, enc...)
}
