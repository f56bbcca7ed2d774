package packet

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/sockio/sockio/internal/utf8text"
)

// The WebTransport transport carries packets on one bidirectional stream,
// each behind a length header shaped like a WebSocket frame's (the
// reference's createPacketEncoderStream): one byte whose top bit says
// binary and whose low 7 bits are the length, or 126 then a 16-bit length,
// or 127 then a 64-bit length, all big-endian. A text packet's payload is
// its text form (type digit, data); a binary message's is its raw data.

// ErrFrameTooLarge is a stream frame longer than the reader's limit.
var ErrFrameTooLarge = errors.New("packet: stream frame longer than the limit")

// AppendStreamFrame appends p as one WebTransport stream frame. An empty
// binary message goes as the text frame "b" (empty base64): a frame of
// length 0 is an error for the reference's decoder and for StreamReader,
// and a Socket.IO packet may carry an empty attachment.
func AppendStreamFrame(dst []byte, p Packet) []byte {
	if p.Binary && len(p.Data) == 0 {
		return append(dst, 1, 'b')
	}
	n := len(p.Data)
	if !p.Binary {
		n++ // the type digit
	}
	var top byte
	if p.Binary {
		top = 0x80
	}
	switch {
	case n < 126:
		dst = append(dst, top|byte(n))
	case n < 1<<16:
		dst = append(dst, top|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, top|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if !p.Binary {
		dst = append(dst, '0'+byte(p.Type))
	}
	return append(dst, p.Data...)
}

// streamChunk is how much of a frame's payload is read (and allocated) at
// a time, so that a peer announcing a large frame it does not send holds
// no more memory than it sent.
const streamChunk = 64 << 10

// StreamReader reads the frames of a WebTransport stream.
type StreamReader struct {
	r   *bufio.Reader
	max int64
	buf []byte
}

// NewStreamReader reads frames from r; a frame longer than max bytes
// fails with ErrFrameTooLarge (the reference's maxHttpBufferSize).
func NewStreamReader(r io.Reader, max int64) *StreamReader {
	return &StreamReader{r: bufio.NewReaderSize(r, 4096), max: max}
}

// Next reads one frame and decodes its packet. The packet's Data is valid
// until the next call. At the end of the stream between frames it returns
// io.EOF, inside a frame io.ErrUnexpectedEOF. An empty frame is ErrEmpty,
// as the reference refuses it; a text frame is decoded as DecodeText does,
// its invalid UTF-8 replaced by U+FFFD as the reference's TextDecoder does.
func (sr *StreamReader) Next() (Packet, error) {
	head, err := sr.r.ReadByte()
	if err != nil {
		return Packet{}, err
	}
	binaryFrame := head&0x80 != 0
	n := uint64(head & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(sr.r, b[:]); err != nil {
			return Packet{}, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(sr.r, b[:]); err != nil {
			return Packet{}, unexpected(err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n == 0 {
		return Packet{}, fmt.Errorf("failed to read a stream frame: %w", ErrEmpty)
	}
	if n > uint64(sr.max) {
		return Packet{}, fmt.Errorf("failed to read a stream frame of %d bytes (limit %d): %w", n, sr.max, ErrFrameTooLarge)
	}
	data, err := sr.payload(int(n))
	if err != nil {
		return Packet{}, err
	}
	if binaryFrame {
		return DecodeBinary(data), nil
	}
	p, err := DecodeText(data)
	if err != nil {
		return Packet{}, err
	}
	if !p.Binary && !utf8.Valid(p.Data) {
		p.Data = utf8text.Repair(p.Data)
	}
	return p, nil
}

// payload reads n bytes into the reader's buffer, growing it a chunk at a
// time. A large buffer is not kept for the next frame: an idle session
// should not hold its largest message.
func (sr *StreamReader) payload(n int) ([]byte, error) {
	b := sr.buf[:0]
	if cap(b) > streamChunk {
		b = nil
	}
	for len(b) < n {
		k := min(n-len(b), streamChunk)
		if cap(b)-len(b) < k {
			nb := make([]byte, len(b), len(b)+k)
			copy(nb, b)
			b = nb
		}
		if _, err := io.ReadFull(sr.r, b[len(b):len(b)+k]); err != nil {
			return nil, unexpected(err)
		}
		b = b[:len(b)+k]
	}
	sr.buf = b
	return b[:n:n], nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
