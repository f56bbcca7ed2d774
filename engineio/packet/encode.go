package packet

import (
	"encoding/base64"
	"slices"
)

// AppendText appends the text form of p to dst and returns the extended
// slice: "<digit><data>" for a text packet and "b"+base64(data) for a binary
// message. The latter is the polling form; over WebSocket send binary
// messages as a binary frame holding Data instead.
//
// p is not validated, so senders of untrusted packets should call
// Packet.Validate first: Binary is ignored unless Type is Message, and an
// unknown Type is written as the byte '0'+Type, which is not a well-formed
// packet (Type(50) even yields 'b', the base64 prefix).
func AppendText(dst []byte, p Packet) []byte {
	if p.Binary && p.Type == Message {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// textLen is the exact length AppendText(nil, p) produces.
func textLen(p Packet) int {
	if p.Binary && p.Type == Message {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}

// AppendPayload appends the polling payload for pkts to dst: the text form
// of each packet joined by Separator, with no trailing separator. It grows
// dst at most once. Text data must not contain Separator (see the package
// doc); it is not escaped.
func AppendPayload(dst []byte, pkts []Packet) []byte {
	if len(pkts) == 0 {
		return dst
	}
	n := len(pkts) - 1
	for _, p := range pkts {
		n += textLen(p)
	}
	dst = slices.Grow(dst, n)
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = AppendText(dst, p)
	}
	return dst
}
