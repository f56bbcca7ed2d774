package load

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// errServerClosed is returned by readMessage when the server sent a close frame.
var errServerClosed = errors.New("server closed the websocket")

// appendFrame appends one final, masked client frame carrying payload.
// The mask key comes from the caller: clients must mask, and a key per
// frame keeps the frames RFC-conformant at the cost of an XOR pass.
func appendFrame(dst []byte, op byte, payload []byte, key uint32) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	var mk [4]byte
	binary.BigEndian.PutUint32(mk[:], key)
	dst = append(dst, mk[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= mk[i&3]
	}
	return dst
}

// frameReader reads the unmasked frames a server sends.
type frameReader struct {
	br  *bufio.Reader
	buf []byte // reused message buffer
}

// readMessage returns the next data message (text or binary), joining
// fragments. Pings are reported through onPing so the caller can answer;
// the returned slice is valid until the next call.
func (r *frameReader) readMessage(onPing func(payload []byte) error) (op byte, msg []byte, err error) {
	msg = r.buf[:0]
	var msgOp byte
	for {
		fin, fop, payload, err := r.readFrame()
		if err != nil {
			return 0, nil, err
		}
		switch fop {
		case opPing:
			if onPing != nil {
				if err := onPing(payload); err != nil {
					return 0, nil, err
				}
			}
			continue
		case opPong:
			continue
		case opClose:
			return 0, nil, errServerClosed
		case opText, opBinary:
			msgOp = fop
			msg = msg[:0]
		case opContinuation:
			if msgOp == 0 {
				return 0, nil, errors.New("continuation frame without a start")
			}
		default:
			return 0, nil, fmt.Errorf("unknown opcode %#x", fop)
		}
		if fin && len(msg) == 0 {
			return msgOp, payload, nil // the common case: one frame, no copy
		}
		if msg, err = appendFragment(msg, payload); err != nil {
			return 0, nil, err
		}
		r.buf = msg
		if fin {
			return msgOp, msg, nil
		}
	}
}

// readFrame reads one frame into a scratch buffer.
func (r *frameReader) readFrame() (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r.br, h[:]); err != nil {
		return
	}
	if h[1]&0x80 != 0 {
		return false, 0, nil, errors.New("masked frame from the server")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err = io.ReadFull(r.br, e[:]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err = io.ReadFull(r.br, e[:]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if n > maxFrame {
		return false, 0, nil, fmt.Errorf("frame of %d bytes exceeds the %d limit", n, maxFrame)
	}
	// Peek avoids a copy when the frame is already buffered.
	if int(n) <= r.br.Size() {
		if payload, err = r.br.Peek(int(n)); err != nil {
			return
		}
		_, _ = r.br.Discard(int(n))
	} else {
		// Grown as the bytes come, not allocated from the header: a
		// length alone does not cost up to maxFrame of memory.
		var b bytes.Buffer
		if _, err = io.CopyN(&b, r.br, int64(n)); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return false, 0, nil, err
		}
		payload = b.Bytes()
	}
	return h[0]&0x80 != 0, h[0] & 0x0f, payload, nil
}
