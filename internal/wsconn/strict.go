package wsconn

import (
	"errors"
	"fmt"
	"net"
)

// ErrProtocol marks a read that failed because the peer broke RFC 6455.
// The connection should be closed with CloseProtocolError.
var ErrProtocol = errors.New("websocket protocol error")

// frameGuard watches the raw byte stream of a connection for the few frame
// rules gorilla/websocket v1.5.3 does not enforce:
//
//   - a close frame whose payload is exactly 1 byte (RFC 6455 5.5.1: a body,
//     if present, starts with a 2-byte status code); gorilla reads it as
//     "no status" (1005);
//   - a 64-bit payload length with the most significant bit set (5.2);
//     gorilla reports it as a read-limit error;
//   - RSV1 on a control or continuation frame (RFC 7692 6: only the first
//     frame of a compressed message carries it); with compression negotiated
//     gorilla accepts it.
//
// It parses frame headers only and skips payloads by count, so it costs a
// few comparisons per frame, not per byte. On a violation it hands the
// library every byte before the offending frame and then fails the read, so
// the library never acts on the bad frame.
type frameGuard struct {
	net.Conn
	err error

	// skipHTTP is set on the client side: the handshake response precedes
	// the first frame. crlf counts the bytes of "\r\n\r\n" seen so far.
	skipHTTP bool
	crlf     int

	state   guardState
	b0      byte
	small   byte   // the 7-bit length field
	need    int    // bytes left in the extended length or mask key
	length  uint64 // declared payload length
	skip    uint64 // payload bytes left to pass through
	masked  bool
	started bool // a header began in an earlier Read
}

type guardState uint8

const (
	guardByte0 guardState = iota
	guardByte1
	guardExtLen
	guardMask
	guardPayload
)

func (g *frameGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(p)
	if k, verr := g.scan(p[:n]); verr != nil {
		g.err = verr
		if k == 0 {
			return 0, verr
		}
		return k, nil
	}
	return n, err
}

// scan advances the parser over b. On a violation it returns the offset of
// the offending frame's first byte within b (0 if the header began in an
// earlier chunk) and the error.
func (g *frameGuard) scan(b []byte) (int, error) {
	frameStart := 0
	for i := 0; i < len(b); {
		if g.skipHTTP {
			switch {
			case b[i] == '\r' && (g.crlf == 0 || g.crlf == 2):
				g.crlf++
			case b[i] == '\n' && (g.crlf == 1 || g.crlf == 3):
				g.crlf++
			case b[i] == '\r':
				g.crlf = 1
			default:
				g.crlf = 0
			}
			i++
			if g.crlf == 4 {
				g.skipHTTP = false
			}
			continue
		}
		switch g.state {
		case guardPayload:
			n := uint64(len(b) - i)
			if n > g.skip {
				n = g.skip
			}
			i += int(n)
			g.skip -= n
			if g.skip == 0 {
				g.state = guardByte0
			}
		case guardByte0:
			frameStart = i
			g.started = false
			g.b0 = b[i]
			i++
			g.state = guardByte1
		case guardByte1:
			g.masked = b[i]&0x80 != 0
			g.small = b[i] & 0x7f
			i++
			switch g.small {
			case 126:
				g.need, g.length = 2, 0
				g.state = guardExtLen
			case 127:
				g.need, g.length = 8, 0
				g.state = guardExtLen
			default:
				g.length = uint64(g.small)
				if err := g.check(); err != nil {
					return g.offset(frameStart), err
				}
				g.afterLength()
			}
		case guardExtLen:
			g.length = g.length<<8 | uint64(b[i])
			i++
			g.need--
			if g.need == 0 {
				if err := g.check(); err != nil {
					return g.offset(frameStart), err
				}
				g.afterLength()
			}
		case guardMask:
			n := len(b) - i
			if n > g.need {
				n = g.need
			}
			i += n
			g.need -= n
			if g.need == 0 {
				g.startPayload()
			}
		}
	}
	if g.state != guardByte0 && g.state != guardPayload {
		g.started = true
	}
	return 0, nil
}

func (g *frameGuard) offset(frameStart int) int {
	if g.started {
		return 0
	}
	return frameStart
}

func (g *frameGuard) afterLength() {
	if g.masked {
		g.need = 4
		g.state = guardMask
		return
	}
	g.startPayload()
}

func (g *frameGuard) startPayload() {
	g.skip = g.length
	if g.skip == 0 {
		g.state = guardByte0
		return
	}
	g.state = guardPayload
}

// check applies the rules once the payload length is known.
func (g *frameGuard) check() error {
	opcode := g.b0 & 0x0f
	rsv1 := g.b0&0x40 != 0
	control := opcode >= 0x8
	switch {
	case g.small == 127 && g.length>>63 != 0:
		return fmt.Errorf("%w: payload length has its most significant bit set", ErrProtocol)
	case rsv1 && control:
		return fmt.Errorf("%w: RSV1 set on a control frame", ErrProtocol)
	case rsv1 && opcode == 0:
		return fmt.Errorf("%w: RSV1 set on a continuation frame", ErrProtocol)
	case opcode == 0x8 && g.length == 1:
		return fmt.Errorf("%w: close frame with a 1-byte payload", ErrProtocol)
	}
	return nil
}
