package engineio

import (
	"encoding/base64"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/internal/utf8text"
	"github.com/sockio/sockio/internal/wsconn"
)

// Engine.IO protocol 3, for socket.io-client 2.x (Options.AllowEIO3), as
// engine.io 6 serves it with allowEIO3:
//
//   - Any EIO value but "4" (or none) is protocol 3; a request of a session
//     must name the session's protocol (else 400, "Bad request").
//   - The open packet is the same. The handshake's poll is answered with it
//     alone: what the session sends next goes in the next poll.
//   - Heartbeat: the client pings, the server answers pong at once. A
//     session that hears no ping for PingInterval+PingTimeout is closed
//     ("ping timeout"); a pong from the client is a transport error.
//   - Polling payloads are length-prefixed (see package packet): text for
//     clients that asked for base64 (b64 in the handshake's query) or when
//     nothing binary is sent, else the binary form (application/
//     octet-stream). A POST may be either.
//   - JSONP polling: a handshake with a j query parameter gets its answers
//     as the script `___eio[<j>]("<payload>");` and POSTs a form whose d
//     field is the payload.
//   - Websocket: a binary frame starts with its type byte (4); a client that
//     asked for base64 gets binary messages as "b4"+base64 text frames.
//
// One departure: after an upgrade the reference stops timing the
// heartbeat of a protocol 3 session (its transport switch clears the
// timer, which only a ping would have re-armed); here it keeps running, so
// a client that stops pinging over its websocket is still closed.

// eio3Session is what a protocol 3 session needs beyond protocol 4's.
type eio3Session struct {
	pollB64  bool   // the handshake asked for base64 (b64): text payloads only
	jsonp    []byte // JSONP polling: every answer's head, "___eio[N](" (nil: XHR)
	wsB64    bool   // the websocket asked for base64: binary messages as text; under mu
	openOnly bool   // the handshake's poll is answered with the open packet alone; under mu
}

// protocolOf is the Engine.IO protocol a request asks for: 4 if its EIO is
// "4", else 3, as in the reference.
func protocolOf(q url.Values) int {
	if q.Get("EIO") == "4" {
		return 4
	}
	return 3
}

// newEIO3Session returns the protocol 3 state of a session opened by a
// handshake with query q over transport.
func newEIO3Session(q url.Values, transport string) *eio3Session {
	e := &eio3Session{}
	if transport == Polling {
		e.pollB64 = askedBase64(q)
		e.openOnly = true
		if j, ok := q["j"]; ok {
			e.jsonp = jsonpHead(j[0])
		}
	} else {
		e.wsB64 = askedBase64(q)
	}
	return e
}

// askedBase64 reports whether a request asks for binary as base64: the
// reference's `!!req._query.b64`, so any value but the empty one.
func askedBase64(q url.Values) bool { return q.Get("b64") != "" }

// jsonpHead is the start of a JSONP answer: the digits of j only, as the
// reference keeps them.
func jsonpHead(j string) []byte {
	b := append(make([]byte, 0, 10+len(j)), "___eio["...)
	for i := 0; i < len(j); i++ {
		if c := j[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	return append(b, "]("...)
}

// Protocol is the session's Engine.IO protocol revision: 4, or 3 for a
// client of protocol 3 (socket.io-client 2.x, see Options.AllowEIO3).
func (s *Session) Protocol() int {
	if s.eio3 != nil {
		return 3
	}
	return 4
}

// onHeartbeatV3 handles a ping or pong from a protocol 3 client, where the
// client pings and the server answers; it reports whether reading goes on.
func (s *Session) onHeartbeatV3(p packet.Packet) bool {
	if p.Type == packet.Pong {
		// The reference's "invalid heartbeat direction".
		if s.Transport() == WebSocket {
			go s.finish(ReasonTransportError, ErrBadHeartbeat, packet.Close)
		} else {
			s.finish(ReasonTransportError, ErrBadHeartbeat, packet.Close)
		}
		return false
	}
	s.mu.Lock()
	if s.state == stateOpen {
		s.resetTimerLocked(s.srv.opts.PingInterval + s.srv.opts.PingTimeout)
		// Past the queue bound, as a protocol 4 ping: the heartbeat must go.
		s.enqueueLocked(SendOptions{}, packet.Packet{Type: packet.Pong})
	}
	s.mu.Unlock()
	return true
}

// takeOpenLocked takes the open packet alone from the queue, for the
// handshake's poll of a protocol 3 session.
func (s *Session) takeOpenLocked() []frame {
	s.eio3.openOnly = false
	open := s.queue[0] // queued by the handshake, outside queuedBytes
	s.queue = append(s.queue[:0], s.queue[1:]...)
	return []frame{open}
}

// appendPollBody appends a poll answer for pkts to dst and returns it with
// its Content-Type.
func (e *eio3Session) appendPollBody(dst []byte, pkts []frame) ([]byte, string) {
	if e.jsonp == nil && !e.pollB64 && hasBinary(pkts) {
		for i := range pkts {
			dst = packet.AppendBinaryRecordV3(dst, pkts[i].Packet)
		}
		return dst, "application/octet-stream"
	}
	if e.jsonp == nil {
		for i := range pkts {
			dst = packet.AppendRecordV3(dst, pkts[i].Packet)
		}
		return dst, "text/plain; charset=UTF-8"
	}
	var text []byte
	for i := range pkts {
		text = packet.AppendRecordV3(text, pkts[i].Packet)
	}
	dst = append(dst, e.jsonp...)
	dst = appendJSString(dst, text)
	return append(dst, ");"...), "text/plain; charset=UTF-8"
}

func hasBinary(pkts []frame) bool {
	for i := range pkts {
		if pkts[i].Binary && pkts[i].Type == packet.Message {
			return true
		}
	}
	return false
}

// appendJSString appends s (UTF-8) as the reference's JSONP writes a
// string: JSON.stringify, with U+2028 and U+2029 escaped too, since a
// script may not hold them raw.
func appendJSString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	s = utf8text.Repair(s)
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xf])
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				dst = append(dst, c)
			}
		}
		i++
	}
	return append(dst, '"')
}

// decodePost decodes a protocol 3 POST body and calls fn with its packets.
func (e *eio3Session) decodePost(body []byte, contentType string, fn func(packet.Packet) error) error {
	switch {
	case e.jsonp != nil:
		d, ok := jsonpPayload(body)
		if !ok {
			return nil // no single d field: the reference ignores the POST
		}
		return packet.DecodePayloadV3(d, fn)
	case contentType == "application/octet-stream":
		return packet.DecodeBinaryPayloadV3(body, fn)
	default:
		return packet.DecodePayloadV3(body, fn)
	}
}

// jsonpPayload extracts the payload from a JSONP POST, a form whose field d
// holds it with its newlines escaped by the client ("\n" stands for a
// newline, `\\n` for the two characters `\n`). It undoes that as the
// reference does, with its two regular expressions in turn.
func jsonpPayload(body []byte) ([]byte, bool) {
	form, _ := url.ParseQuery(string(body)) // the valid pairs, as the reference's parser keeps them
	d := form["d"]
	if len(d) != 1 {
		return nil, false
	}
	s := d[0]
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'n':
			b.WriteString(`\\n`) // (\\)?\\n with the slashes: kept
			i += 2
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == 'n':
			b.WriteByte('\n')
			i++
		default:
			b.WriteByte(s[i])
		}
	}
	return []byte(strings.ReplaceAll(b.String(), `\\n`, `\n`)), true
}

// appendFrames appends the websocket frames of pkts in the session's protocol.
func (s *Session) appendFrames(frames []wsconn.Frame, pkts []frame) []wsconn.Frame {
	if s.eio3 != nil {
		return s.appendFramesV3(frames, pkts)
	}
	return appendFrames(frames, pkts)
}

// decodeFrame decodes a websocket message in the session's protocol.
func (s *Session) decodeFrame(typ wsconn.MessageType, data []byte) (packet.Packet, error) {
	if s.eio3 != nil {
		return decodeFrameV3(typ, data)
	}
	return decodePacket(typ, data)
}

// appendFramesV3 appends the websocket frames of pkts for a protocol 3
// session: binary messages start with their type byte, or go as "b4"
// text when the client asked for base64.
func (s *Session) appendFramesV3(frames []wsconn.Frame, pkts []frame) []wsconn.Frame {
	for _, p := range pkts {
		switch {
		case !p.Binary:
			frames = append(frames, wsconn.Frame{Type: wsconn.Text, Head: heads[p.Type], Body: p.Data, NoCompress: p.noCompress})
		case s.eio3.wsB64:
			frames = append(frames, wsconn.Frame{Type: wsconn.Text, Head: headB64Message, Body: base64.StdEncoding.AppendEncode(nil, p.Data), NoCompress: p.noCompress})
		default:
			frames = append(frames, wsconn.Frame{Type: wsconn.Binary, Head: headBinaryMessage, Body: p.Data, NoCompress: p.noCompress})
		}
	}
	return frames
}

var (
	headBinaryMessage = []byte{byte(packet.Message)}
	headB64Message    = []byte{'b', '0' + byte(packet.Message)}
)

// decodeFrameV3 decodes a websocket message of a protocol 3 session. A
// binary frame the reference ignores (empty, unknown type) reads as a noop.
func decodeFrameV3(typ wsconn.MessageType, data []byte) (packet.Packet, error) {
	if typ == wsconn.Binary {
		if p, ok := packet.DecodeBinaryV3(data); ok {
			return p, nil
		}
		return packet.Packet{Type: packet.Noop}, nil
	}
	p, err := packet.DecodeTextV3(data)
	if err != nil {
		return p, &parseError{err}
	}
	return p, nil
}
