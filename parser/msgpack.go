package parser

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/sockio/sockio/internal/notepack"
)

// Msgpack is the format of the npm package socket.io-msgpack-parser (v3),
// the reference's choice for bandwidth: each packet is one binary message,
// the MessagePack (notepack.io) map {type, nsp, data, id}. It has no
// attachments: binary parts travel inline as bin, and the types are
// CONNECT to CONNECT_ERROR only (an event with binary is a plain EVENT).
//
// Packets keep the usual representation (see Codec): on decoding, bin
// values become placeholders and attachments and a packet with any gets
// the BinaryEvent or BinaryAck type, so the rest of the stack is unchanged;
// encoding does the reverse.
var Msgpack Codec = msgpackCodec{}

type msgpackCodec struct{}

// String names the codec in logs.
func (msgpackCodec) String() string { return "socket.io-msgpack-parser" }

func (msgpackCodec) Encode(p *Packet) ([]Message, error) {
	b, err := AppendMsgpack(make([]byte, 0, 24+len(p.Namespace)+len(p.Data)), p)
	if err != nil {
		return nil, err
	}
	return []Message{{Data: b, Binary: true}}, nil
}

func (msgpackCodec) NewDecoder(int) PacketDecoder { return &MsgpackDecoder{} }

// AppendMsgpack appends p in the Msgpack format: the map
// {type, nsp[, data][, id]}, data converted from JSON with each
// placeholder replaced by its attachment as bin. BinaryEvent and
// BinaryAck are written as EVENT and ACK; an empty namespace as "/".
func AppendMsgpack(dst []byte, p *Packet) ([]byte, error) {
	t := p.Type
	switch t {
	case BinaryEvent:
		t = Event
	case BinaryAck:
		t = Ack
	}
	if t > ConnectError {
		return dst, fmt.Errorf("%w: %v", ErrUnknownType, p.Type)
	}
	n := 2
	if p.Data != nil {
		n++
	}
	if p.HasID {
		n++
	}
	b := notepack.AppendMapHeader(dst, n)
	b = notepack.AppendUint(notepack.AppendString(b, "type"), uint64(t))
	nsp := p.Namespace
	if nsp == "" {
		nsp = "/"
	}
	b = notepack.AppendString(notepack.AppendString(b, "nsp"), nsp)
	if p.Data != nil {
		var atts [][]byte
		if p.Type.IsBinary() {
			atts = p.Attachments // else placeholders are plain objects
		}
		var err error
		if b, err = notepack.AppendJSON(notepack.AppendString(b, "data"), p.Data, atts); err != nil {
			return dst, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
		}
	}
	if p.HasID {
		b = notepack.AppendUint(notepack.AppendString(b, "id"), p.ID)
	}
	return b, nil
}

// MsgpackDecoder decodes Msgpack packets. It checks each packet as
// socket.io-msgpack-parser does (an integer type from CONNECT to
// CONNECT_ERROR, a string nsp, data of the kind the type needs, an integer
// id if any; other keys are ignored, as the reference client sends an
// "options" key) and, as the default Decoder does, that an event's name
// is a string or a number and not reserved, and that the namespace and
// the id fit our representation (UTF-8, uint64).
//
// Bin values in data alias the message, which the caller must not modify;
// everything else is copied. Memory is bounded by a constant factor of the
// message's size. The zero value is ready to use; it holds no state
// between messages.
type MsgpackDecoder struct{}

// Add decodes one message, which must be binary.
func (d *MsgpackDecoder) Add(msg []byte, binary bool) (*Packet, error) {
	if !binary {
		return nil, ErrUnexpectedText
	}
	if len(msg) == 0 {
		return nil, ErrEmpty
	}
	v, err := notepack.Unmarshal(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	m, ok := v.(notepack.Map)
	if !ok {
		return nil, fmt.Errorf("%w: not a map", ErrInvalidPayload)
	}

	tv, _ := m.Get("type")
	ti, ok := integer(tv)
	if !ok || ti < int64(Connect) || ti > int64(ConnectError) {
		return nil, fmt.Errorf("%w: %v", ErrUnknownType, tv)
	}
	p := &Packet{Type: Type(ti)}

	nv, _ := m.Get("nsp")
	nsp, ok := nv.(string)
	if !ok {
		return nil, fmt.Errorf("%w: not a string", ErrBadNamespace)
	}
	if !utf8.ValidString(nsp) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrBadNamespace)
	}
	p.Namespace = nsp

	if iv, ok := m.Get("id"); ok && iv != notepack.Undefined {
		id, ok := integer(iv)
		if !ok || id < 0 {
			return nil, fmt.Errorf("%w: %v", ErrBadID, iv)
		}
		p.ID, p.HasID = uint64(id), true
	}

	dv, ok := m.Get("data")
	if dv == notepack.Undefined {
		ok = false
	}
	if err := checkMsgpackData(p.Type, dv, ok); err != nil {
		return nil, err
	}
	if ok {
		data, atts, err := notepack.AppendJSONValue(nil, dv, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
		}
		p.Data, p.Attachments = data[:len(data):len(data)], atts
		if p.Type == Event {
			if err := checkEventName(p.Data); err != nil {
				return nil, err
			}
		}
		if len(atts) > 0 {
			switch p.Type {
			case Event:
				p.Type = BinaryEvent
			case Ack:
				p.Type = BinaryAck
			}
			if p.Type.IsBinary() {
				// A map that looks like a placeholder is one to us, as
				// with the default format: keep Reconstruct unable to
				// fail.
				if err := checkPlaceholders(p.Data, len(atts)); err != nil {
					return nil, err
				}
				return p, nil
			}
			// CONNECT and CONNECT_ERROR carry no attachments in our
			// representation: bytes there take a Buffer's JSON form, as
			// the reference's JSON.stringify would write them.
			p.Data, err = notepack.AppendStringify(nil, dv)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
			}
			p.Attachments = nil
		}
	}
	return p, nil
}

// Reset implements PacketDecoder; the decoder has no state to drop.
func (d *MsgpackDecoder) Reset() {}

// checkMsgpackData is the reference's isDataValid: CONNECT has no data or
// a map, DISCONNECT none, CONNECT_ERROR a string or a map, EVENT and ACK
// an array (an EVENT's must not be empty, as with the default format).
func checkMsgpackData(t Type, v any, present bool) error {
	var ok bool
	switch t {
	case Connect:
		_, isMap := v.(notepack.Map)
		ok = !present || isMap
	case Disconnect:
		ok = !present
	case ConnectError:
		switch v.(type) {
		case string, notepack.Map:
			ok = present
		}
	case Event, Ack:
		a, isArray := v.([]any)
		ok = present && isArray && (t == Ack || len(a) > 0)
	}
	if !ok {
		return fmt.Errorf("%w: wrong kind of value for %v", ErrInvalidPayload, t)
	}
	return nil
}

// integer returns v as an integer when JavaScript's Number.isInteger
// would accept it.
func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}
