package wsconn

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"time"
)

// Frame is one message for WriteFrames; its payload is Head then Body.
type Frame struct {
	Type       MessageType
	Head, Body []byte
	// NoCompress keeps this message uncompressed when deflate is on.
	NoCompress bool
}

const (
	opClose = 8
	opPing  = 9
	opPong  = 10

	// copyLimit: bodies up to this size are copied next to their header;
	// larger ones get their own iovec (no copy).
	copyLimit = 2048
)

type batchBuf struct {
	b    []byte
	iovs net.Buffers
}

var batchPool = sync.Pool{New: func() any { return &batchBuf{b: make([]byte, 0, 4096)} }}

// WriteFrames writes messages in order, in as few system calls as
// possible: one writev for the lot. A non-zero deadline bounds the
// writes; it is set under the write lock, so a control frame written in
// between cannot replace it.
func (c *Conn) WriteFrames(frames []Frame, deadline time.Time) error {
	plain := c.plain()
	var bb *batchBuf
	if plain {
		bb = buildBatch(frames) // outside the lock: nothing of c is needed
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		if bb != nil {
			bb.release()
		}
		return errClosing
	}
	if !plain {
		// Compression (its context runs in the order of the stream) and
		// masking keys need the lock.
		bb = c.buildLocked(frames)
	}
	defer bb.release()
	// Moving the deadline costs a timer update per call; a deadline less
	// than a second later than the one in force is close enough.
	if !deadline.IsZero() && deadline.Sub(c.deadline) > time.Second {
		_ = c.nc.SetWriteDeadline(deadline)
		c.deadline = deadline
	}
	iovs := bb.iovs // WriteTo consumes its receiver
	_, err := iovs.WriteTo(c.nc)
	return err
}

// errClosing is returned by writes after a close frame was sent.
var errClosing = fmt.Errorf("%w: %w", ErrCloseSent, net.ErrClosed)

// plain reports whether frames go out as they are: a server's, without
// compression.
func (c *Conn) plain() bool { return !c.client && c.defl == nil }

// buildLocked lays frames out in one buffer, compressed and masked as
// the connection needs.
func (c *Conn) buildLocked(frames []Frame) *batchBuf {
	bb := batchPool.Get().(*batchBuf)
	b := bb.b[:0]
	for _, f := range frames {
		b = c.appendMessage(b, f)
	}
	bb.b = b
	bb.iovs = append(bb.iovs, b)
	return bb
}

// appendMessage appends f as one frame, compressed when negotiated,
// allowed and above the threshold, masked on the client side. Called
// under the write lock, or before the connection is shared.
func (c *Conn) appendMessage(b []byte, f Frame) []byte {
	n := len(f.Head) + len(f.Body)
	if c.defl != nil && !f.NoCompress && n >= c.threshold {
		scratch := scratchPool.Get().(*[]byte)
		payload := c.defl.compress((*scratch)[:0], f.Head, f.Body)
		b = c.appendFrame(b, 0xC0|byte(f.Type), payload)
		if cap(payload) <= 64<<10 {
			*scratch = payload[:0]
			scratchPool.Put(scratch)
		}
		return b
	}
	if !c.client {
		b = appendHeader(b, byte(f.Type), n)
		b = append(b, f.Head...)
		return append(b, f.Body...)
	}
	key := c.nextKey()
	b = appendFrameHeader(b, 0x80|byte(f.Type), n, true, key)
	p := len(b)
	b = append(b, f.Head...)
	b = append(b, f.Body...)
	unmask(key, b[p:])
	return b
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// appendFrame appends one final-or-not frame with first byte b0 and
// payload, masked with a fresh key on the client side.
func (c *Conn) appendFrame(b []byte, b0 byte, payload []byte) []byte {
	var key [4]byte
	if c.client {
		key = c.nextKey()
	}
	b = appendFrameHeader(b, b0, len(payload), c.client, key)
	p := len(b)
	b = append(b, payload...)
	if c.client {
		unmask(key, b[p:])
	}
	return b
}

// writeFrame writes one frame (NextWriter's, a prepared message's).
func (c *Conn) writeFrame(b0 byte, payload []byte) error {
	bb := batchPool.Get().(*batchBuf)
	defer bb.release()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return errClosing
	}
	bb.b = c.appendFrame(bb.b[:0], b0, payload)
	_, err := c.nc.Write(bb.b)
	return err
}

// writeRaw writes a frame already encoded.
func (c *Conn) writeRaw(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return errClosing
	}
	_, err := c.nc.Write(frame)
	return err
}

// buildBatch lays frames out for one writev: headers and small payloads
// are copied into one buffer, large payloads are written from where they are.
func buildBatch(frames []Frame) *batchBuf {
	bb := batchPool.Get().(*batchBuf)
	// The iovecs point into b only once it is complete, so its growth
	// cannot leave them dangling.
	type span struct {
		start, end int
		body       []byte // a large body, written from where it is
	}
	var small [8]span
	spans := small[:0]
	start := 0
	b := bb.b[:0]
	for _, f := range frames {
		n := len(f.Head) + len(f.Body)
		b = appendHeader(b, byte(f.Type), n)
		b = append(b, f.Head...)
		if len(f.Body) <= copyLimit {
			b = append(b, f.Body...)
			continue
		}
		spans = append(spans, span{start, len(b), f.Body})
		start = len(b)
	}
	spans = append(spans, span{start, len(b), nil})
	bb.b = b
	for _, s := range spans {
		if s.end > s.start {
			bb.iovs = append(bb.iovs, b[s.start:s.end])
		}
		if s.body != nil {
			bb.iovs = append(bb.iovs, s.body)
		}
	}
	return bb
}

func (bb *batchBuf) release() {
	clear(bb.iovs[:cap(bb.iovs)])
	bb.iovs = bb.iovs[:0]
	if cap(bb.b) <= 64<<10 {
		bb.b = bb.b[:0]
		batchPool.Put(bb)
	}
}

func (c *Conn) writeControl(op byte, payload []byte, deadline time.Time) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeControlLocked(op, payload, deadline)
}

func (c *Conn) writeControlLocked(op byte, payload []byte, deadline time.Time) error {
	if c.closeSent {
		if op == opClose {
			return nil // one close frame
		}
		return errClosing // and nothing after it
	}
	var buf [2 + 4 + 125]byte
	if len(payload) > 125 {
		payload = payload[:125]
	}
	b := c.appendFrame(buf[:0], 0x80|op, payload)
	c.closeSent = op == opClose
	_ = c.nc.SetWriteDeadline(deadline)
	c.deadline = deadline
	_, err := c.nc.Write(b)
	return err
}

// appendHeader appends an unmasked, final frame header (RFC 6455 5.2).
func appendHeader(b []byte, op byte, n int) []byte {
	return appendFrameHeader(b, 0x80|op, n, false, [4]byte{})
}

// appendFrameHeader appends a frame header with first byte b0, and the
// masking key if masked (RFC 6455 5.2).
func appendFrameHeader(b []byte, b0 byte, n int, masked bool, key [4]byte) []byte {
	var m byte
	if masked {
		m = 0x80
	}
	b = append(b, b0)
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if masked {
		b = append(b, key[:]...)
	}
	return b
}
