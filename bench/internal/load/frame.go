package load

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxFrame bounds one server frame: the bench's messages are small, and a
// larger length means a broken stream.
const maxFrame = 16 << 20

// maxMessage bounds a message joined from fragments: without it, a server
// that never sends the final fragment would grow the buffer without end.
const maxMessage = maxFrame

// appendFragment appends one fragment to the message being joined, or
// fails when the message would pass maxMessage.
func appendFragment(msg, payload []byte) ([]byte, error) {
	if n := len(msg) + len(payload); n > maxMessage {
		return msg, fmt.Errorf("fragmented message of %d bytes or more exceeds the %d limit", n, maxMessage)
	}
	return append(msg, payload...), nil
}

// parseFrame decodes the server frame at the start of b. size is the
// frame's length in b, 0 when b does not hold the whole frame yet. payload
// points into b.
func parseFrame(b []byte) (fin bool, op byte, payload []byte, size int, err error) {
	if len(b) < 2 {
		return false, 0, nil, 0, nil
	}
	if b[1]&0x80 != 0 {
		return false, 0, nil, 0, errors.New("masked frame from the server")
	}
	n := uint64(b[1] & 0x7f)
	hdr := 2
	switch n {
	case 126:
		if len(b) < 4 {
			return false, 0, nil, 0, nil
		}
		n, hdr = uint64(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return false, 0, nil, 0, nil
		}
		n, hdr = binary.BigEndian.Uint64(b[2:10]), 10
	}
	if n > maxFrame {
		return false, 0, nil, 0, fmt.Errorf("frame of %d bytes exceeds the %d limit", n, maxFrame)
	}
	if uint64(len(b)-hdr) < n {
		return false, 0, nil, 0, nil
	}
	end := hdr + int(n)
	return b[0]&0x80 != 0, b[0] & 0x0f, b[hdr:end], end, nil
}
