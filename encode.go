package sockio

import (
	"log/slog"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/internal/args"
	"github.com/sockio/sockio/parser"
)

// ErrReservedEvent is returned when emitting an event name the protocol reserves.
var ErrReservedEvent = args.ErrReservedEvent

// The packet builders are shared with package client.
var (
	newEventPacket = args.EventPacket
	newAckPacket   = args.AckPacket
)

// codec is the server's packet format (Options.Parser).
func (srv *Server) codec() parser.Codec {
	if srv.opts.Parser != nil {
		return srv.opts.Parser
	}
	return parser.Default
}

// encode writes p in the server's format, once for all its recipients:
// every client of a server shares the codec. A packet the codec cannot
// write (data that is not valid JSON, from a faulty adapter) is logged
// and dropped: nil sends nothing.
func (srv *Server) encode(p *parser.Packet) []packet.Packet {
	enc, err := args.EncodeWith(srv.opts.Parser, p)
	if err != nil {
		slog.Warn("sockio: packet dropped: the parser cannot encode it",
			"type", p.Type, "nsp", p.Namespace, "err", err)
		return nil
	}
	return enc
}
