package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Engine.IO 4 packet types, as the first byte of a text message.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioNoop    = '6'
)

// Socket.IO 5 packet types, as the byte after the Engine.IO '4'.
const (
	sioConnect      = '0'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
)

// sioPacket is a decoded Socket.IO packet of namespace "/" (the only one
// the bench uses), pointing into the message it came from.
type sioPacket struct {
	typ   byte
	id    int64 // -1 when absent
	data  []byte
	other byte // Engine.IO type when the message is not a Socket.IO packet
}

// appendEvent appends the Engine.IO message of an EVENT on "/":
// 42[<ackID>]["event",args...]; ackID < 0 asks for no acknowledgement.
// args are JSON values, already encoded.
func appendEvent(dst []byte, event string, ackID int64, args ...[]byte) []byte {
	dst = append(dst, eioMessage, sioEvent)
	if ackID >= 0 {
		dst = strconv.AppendInt(dst, ackID, 10)
	}
	dst = append(dst, '[')
	dst = strconv.AppendQuote(dst, event)
	for _, a := range args {
		dst = append(dst, ',')
		dst = append(dst, a...)
	}
	return append(dst, ']')
}

// parseMessage decodes one Engine.IO text message. A non-message packet
// (ping, close, noop...) comes back with other set and typ 0.
func parseMessage(msg []byte) (sioPacket, error) {
	if len(msg) == 0 {
		return sioPacket{}, errors.New("empty Engine.IO packet")
	}
	if msg[0] != eioMessage {
		return sioPacket{other: msg[0], id: -1, data: msg[1:]}, nil
	}
	if len(msg) < 2 {
		return sioPacket{}, errors.New("empty Socket.IO packet")
	}
	p := sioPacket{typ: msg[1], id: -1}
	rest := msg[2:]
	if len(rest) > 0 && rest[0] == '/' {
		// Another namespace: skip "<nsp>," (the bench only uses "/").
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			return p, nil
		}
		rest = rest[i+1:]
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n > 0 {
		id, err := strconv.ParseInt(string(rest[:n]), 10, 64)
		if err != nil {
			return p, err
		}
		p.id = id
	}
	p.data = rest[n:]
	return p, nil
}

// openPacket is the part of the Engine.IO open packet the bench needs.
type openPacket struct {
	SID          string `json:"sid"`
	PingInterval int    `json:"pingInterval"`
	PingTimeout  int    `json:"pingTimeout"`
}

func parseOpen(msg []byte) (openPacket, error) {
	var o openPacket
	if len(msg) == 0 || msg[0] != eioOpen {
		return o, &protocolError{"expected an Engine.IO open packet, got " + quoteShort(msg)}
	}
	if err := json.Unmarshal(msg[1:], &o); err != nil || o.SID == "" {
		return o, &protocolError{"bad open packet " + quoteShort(msg)}
	}
	return o, nil
}

// quoteShort quotes the start of a message for an error text.
func quoteShort(b []byte) string {
	if len(b) > 60 {
		b = b[:60]
	}
	return strconv.Quote(string(b))
}

// stringArg returns the JSON string of s; bench payloads are plain ASCII.
func stringArg(s string) []byte { return strconv.AppendQuote(nil, s) }

// stampArg builds a broadcast payload: "<seq>:<sent ns>:<padding>", padded
// so the whole JSON string is size bytes long when size allows.
func stampArg(dst []byte, seq int64, sentNs int64, size int) []byte {
	start := len(dst)
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, sentNs, 10)
	dst = append(dst, ':')
	for len(dst)-start < size-1 {
		dst = append(dst, 'x')
	}
	return append(dst, '"')
}

// parseStamp reads the sequence number and send time back from the data of
// a "broadcast" event: ["broadcast","<seq>:<ns>:..."].
func parseStamp(data []byte) (seq, sentNs int64, ok bool) {
	const prefix = `["broadcast","`
	if !bytes.HasPrefix(data, []byte(prefix)) {
		return 0, 0, false
	}
	rest := data[len(prefix):]
	seq, rest, ok = leadingInt(rest)
	if !ok || len(rest) == 0 || rest[0] != ':' {
		return 0, 0, false
	}
	sentNs, rest, ok = leadingInt(rest[1:])
	if !ok || len(rest) == 0 || rest[0] != ':' {
		return 0, 0, false
	}
	return seq, sentNs, true
}

// leadingInt reads at most 18 digits: 19 can pass math.MaxInt64 and wrap
// negative (found by FuzzParseStamp); a longer number is then no stamp.
func leadingInt(b []byte) (int64, []byte, bool) {
	var v int64
	n := 0
	for n < len(b) && n < 18 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	return v, b[n:], n > 0
}
