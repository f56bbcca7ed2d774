package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// DefaultMaxAttachments is the attachment limit of a Decoder whose
// MaxAttachments is 0; it matches the reference parser's default.
const DefaultMaxAttachments = 10

// Decoder decodes the packets of one connection. It is stateful: the text
// header of a binary packet is followed by its attachments, each in its own
// binary message. The zero value is ready to use. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	// MaxAttachments bounds the attachment count of a binary packet;
	// 0 (or less) means DefaultMaxAttachments.
	MaxAttachments int

	pending *Packet // binary packet awaiting attachments
	want    int     // its attachment count
	lastNS  string  // last namespace seen, reused to save an allocation
}

// Add takes one transport message, text or binary. It returns a complete
// packet, or (nil, nil) while attachments are still awaited. Any error means
// the connection must be closed ("parse error"); the decoder is reset.
//
// Add does not copy msg: Data aliases the text message (capacity capped, so
// appending to it cannot clobber msg), Attachments are the binary messages
// themselves, and a binary packet's text message is retained until its last
// attachment arrives. The caller must not modify messages passed to Add.
//
// The payload is validated like the reference isPayloadValid: CONNECT has
// none or an object, DISCONNECT none, CONNECT_ERROR an object or a string,
// ACK and BINARY_ACK an array, EVENT and BINARY_EVENT a non-empty array
// whose first element is a number or a string that is not reserved
// (IsReserved, compared after unescaping). As in the reference, a bare EVENT
// or ACK (no payload) decodes with nil Data; CONNECT_ERROR needs a payload.
// The namespace runs from '/' to ',' or the end of the message and must be
// UTF-8; the ack id must fit in a uint64; a binary packet announces 1 to
// MaxAttachments attachments.
//
// Binary packets keep their type (BinaryEvent, BinaryAck); their Data still
// holds the placeholders, already checked to be well formed and in range, so
// Reconstruct on any part of Data cannot fail on them.
func (d *Decoder) Add(msg []byte, binary bool) (*Packet, error) {
	if binary {
		p := d.pending
		if p == nil {
			return nil, ErrUnexpectedBinary
		}
		p.Attachments = append(p.Attachments, msg)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if d.pending != nil {
		d.Reset()
		return nil, ErrUnexpectedText
	}
	limit := d.MaxAttachments
	if limit <= 0 {
		limit = DefaultMaxAttachments
	}
	p, n, err := decodeText(msg, limit, &d.lastNS)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		p.Attachments = make([][]byte, 0, n)
		d.pending, d.want = p, n
		return nil, nil
	}
	return p, nil
}

// Reset drops any partially received binary packet.
func (d *Decoder) Reset() { d.pending, d.want = nil, 0 }

// Awaiting reports whether a binary packet is waiting for attachments.
func (d *Decoder) Awaiting() bool { return d.pending != nil }

// decodeText parses the text part of a packet and validates its payload.
// n is the attachment count of a binary packet (at least 1), else 0.
// lastNS caches the previous namespace: clients mostly repeat one.
func decodeText(msg []byte, limit int, lastNS *string) (p *Packet, n int, err error) {
	if len(msg) == 0 {
		return nil, 0, ErrEmpty
	}
	t := Type(msg[0] - '0') // a byte below '0' wraps to a large value: unknown
	if !t.Valid() {
		return nil, 0, fmt.Errorf("%w %q", ErrUnknownType, msg[0])
	}
	i := 1

	if t.IsBinary() {
		start := i
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			if n <= (math.MaxInt-9)/10 {
				n = n*10 + int(msg[i]-'0')
			} else {
				n = math.MaxInt // saturate: it is over any limit anyway
			}
		}
		switch {
		case i == start || at(msg, i) != '-':
			return nil, 0, fmt.Errorf("%w: malformed count", ErrBadAttachments)
		case n > limit:
			return nil, 0, fmt.Errorf("%w: %d (limit %d)", ErrTooManyAttachments, n, limit)
		case n == 0: // the reference rejects it too (count < 1)
			return nil, 0, fmt.Errorf("%w: count 0", ErrBadAttachments)
		}
		i++
	}

	// The namespace runs from '/' to ',' or the end ("0/admin" is valid).
	ns, hasNS := "/", false
	if at(msg, i) == '/' {
		hasNS = true
		end := bytes.IndexByte(msg[i:], ',')
		var b []byte
		if end < 0 {
			b, i = msg[i:], len(msg)
		} else {
			b, i = msg[i:i+end], i+end+1
		}
		if !utf8.Valid(b) {
			return nil, 0, fmt.Errorf("%w: not UTF-8", ErrBadNamespace)
		}
		if len(b) > 1 {
			if string(b) != *lastNS { // no allocation to compare
				*lastNS = string(b)
			}
			ns = *lastNS
		}
	}

	var id uint64
	hasID := false
	for ; i < len(msg) && isDigit(msg[i]); i++ {
		d := uint64(msg[i] - '0')
		if id > (math.MaxUint64-d)/10 {
			return nil, 0, fmt.Errorf("%w: overflow", ErrBadID)
		}
		id = id*10 + d
		hasID = true
	}

	var data json.RawMessage
	if i < len(msg) {
		switch c := msg[i]; c {
		case '[', '{', '"', 't', 'f', 'n', '-': // a JSON value (digits went to the id)
			data = msg[i:len(msg):len(msg)]
		default:
			// Junk where an id or the payload should be. A ',' before any
			// payload suggests a namespace without its leading '/'.
			rest := msg[i:]
			if j := bytes.IndexByte(rest, ','); !hasNS && !hasID && j >= 0 &&
				!bytes.ContainsAny(rest[:j], `[{"`) {
				return nil, 0, fmt.Errorf("%w: must start with '/'", ErrBadNamespace)
			}
			return nil, 0, fmt.Errorf("%w: unexpected %q", ErrBadID, c)
		}
	}

	if err := validatePayload(t, data, n); err != nil {
		return nil, 0, err
	}
	return &Packet{Type: t, Namespace: ns, ID: id, HasID: hasID, Data: data}, n, nil
}

// validatePayload follows the reference isPayloadValid, which validates
// only a payload that is present; CONNECT_ERROR and binary packets must
// have one.
func validatePayload(t Type, data []byte, n int) error {
	if data == nil {
		// The reference validates only a payload that is there: a bare
		// EVENT or ACK is accepted (and ignored by the layer above).
		if t == Connect || t == Disconnect || t == Event || t == Ack {
			return nil
		}
		return fmt.Errorf("%w: %v requires a payload", ErrInvalidPayload, t)
	}
	var ok bool
	switch c := data[0]; t {
	case Connect:
		ok = c == '{'
	case Disconnect:
		ok = false
	case ConnectError:
		ok = c == '{' || c == '"'
	case Event, BinaryEvent, Ack, BinaryAck:
		ok = c == '['
	}
	if !ok {
		return fmt.Errorf("%w: wrong kind of value for %v", ErrInvalidPayload, t)
	}
	if !validJSON(data) {
		return fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
	}
	if t == Event || t == BinaryEvent {
		if err := checkEventName(data); err != nil {
			return err
		}
	}
	if n > 0 {
		if err := checkPlaceholders(data, n); err != nil {
			return err
		}
	}
	return nil
}

// checkEventName requires the first element of valid data to be a number or
// a non-reserved string, as the reference does.
func checkEventName(data []byte) error {
	first, err := firstElementValid(data)
	if err != nil {
		return err
	}
	switch c := first[0]; {
	case c == '-' || isDigit(c):
		return nil
	case c != '"':
		return fmt.Errorf("%w: event name must be a string or a number", ErrInvalidPayload)
	}
	name := first[1 : len(first)-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		// Compare the unescaped name: "conn\u0065ct" is "connect" to a peer.
		var s string
		if err := json.Unmarshal(first, &s); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidPayload, err)
		}
		if IsReserved(s) {
			return fmt.Errorf("%w: %q", ErrReservedEvent, s)
		}
		return nil
	}
	if isReservedBytes(name) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, name)
	}
	return nil
}

// isReservedBytes is IsReserved without converting (and allocating) name.
func isReservedBytes(name []byte) bool {
	switch string(name) {
	case "connect", "connect_error", "disconnect", "disconnecting",
		"newListener", "removeListener":
		return true
	}
	return false
}
