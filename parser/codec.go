package parser

// Message is one transport message of an encoded packet: Engine.IO
// carries text and binary messages apart.
type Message struct {
	Data   []byte
	Binary bool
}

// Codec is a packet format, chosen per server and per client (the
// reference's "parser" option): Default, or Msgpack for the npm package
// socket.io-msgpack-parser. Packets keep one representation whatever the
// codec (JSON data with binary parts as placeholders, plus attachments),
// so handlers, adapters and recovery never see the wire format; a codec
// converts at the connection's edge.
//
// A Codec must be safe for concurrent use; its decoders need not be.
type Codec interface {
	// Encode returns the messages of p. They are read-only and may be
	// shared by every recipient of a broadcast. An error means p cannot
	// be written in this format (it is not the caller's bug to retry).
	Encode(p *Packet) ([]Message, error)
	// NewDecoder returns the decoder of one connection; maxAttachments
	// bounds a binary packet's attachments where the format has them (0
	// or less: DefaultMaxAttachments).
	NewDecoder(maxAttachments int) PacketDecoder
}

// PacketDecoder decodes the messages of one connection (see Decoder.Add
// for the contract, which every codec follows): a complete packet, or
// (nil, nil) while more messages are awaited; any error means the
// connection must be closed.
type PacketDecoder interface {
	Add(msg []byte, binary bool) (*Packet, error)
	Reset()
}

// Default is the reference's own format (socket.io-parser): a text
// message, then one binary message per attachment.
var Default Codec = textCodec{}

type textCodec struct{}

func (textCodec) Encode(p *Packet) ([]Message, error) {
	text := AppendText(make([]byte, 0, 8+len(p.Namespace)+len(p.Data)), p)
	out := make([]Message, 1+len(p.Attachments))
	out[0] = Message{Data: text}
	for i, a := range p.Attachments {
		out[i+1] = Message{Data: a, Binary: true}
	}
	return out, nil
}

func (textCodec) NewDecoder(maxAttachments int) PacketDecoder {
	return &Decoder{MaxAttachments: maxAttachments}
}

// String names the codec in logs.
func (textCodec) String() string { return "socket.io-parser" }
