package parser

import "strconv"

// AppendText appends the text part of p to dst and returns the result:
//
//	<type>[<#attachments>-][<namespace>,][<ack id>][<JSON data>]
//
// For BinaryEvent and BinaryAck the count written is len(p.Attachments);
// the attachments themselves are sent by the caller, each as its own binary
// message, after the text. A Namespace of "/" or "" is omitted. Data is
// written verbatim.
//
// AppendText does not validate p: the namespace must start with '/' and
// contain no ',', and Data must be valid JSON of the kind the type requires,
// or the peer will reject the packet. A binary type needs at least one
// attachment (the reference decoder rejects a count of 0); send Event or Ack
// when EncodeData returns none.
func AppendText(dst []byte, p *Packet) []byte {
	if p.Type < 10 {
		dst = append(dst, '0'+byte(p.Type))
	} else {
		dst = strconv.AppendUint(dst, uint64(p.Type), 10)
	}
	if p.Type.IsBinary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}
