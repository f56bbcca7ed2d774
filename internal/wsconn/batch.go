package wsconn

import (
	"encoding/binary"
	"net"
	"net/http"
	"strings"
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

func offersDeflate(r *http.Request) bool {
	for _, v := range r.Header.Values("Sec-Websocket-Extensions") {
		if strings.Contains(v, "permessage-deflate") {
			return true
		}
	}
	return false
}

// WriteFrames writes messages in order, as few system calls as possible:
// in batch mode one writev for the lot. Without batch mode (compression
// negotiated) it writes them one by one. A non-zero deadline bounds the
// writes; it is set under the write lock, so a control frame written in
// between cannot replace it.
func (c *Conn) WriteFrames(frames []Frame, deadline time.Time) error {
	if !c.raw {
		if !deadline.IsZero() {
			_ = c.c.SetWriteDeadline(deadline)
		}
		for _, f := range frames {
			if err := c.Write(f.Type, f.Head, f.Body, !f.NoCompress); err != nil {
				return err
			}
		}
		return nil
	}
	bb := buildBatch(frames)
	defer bb.release()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return net.ErrClosed
	}
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
		return nil // one close frame, and nothing after it
	}
	var buf [2 + 125]byte
	if len(payload) > 125 {
		payload = payload[:125]
	}
	b := appendHeader(buf[:0], op, len(payload))
	b = append(b, payload...)
	c.closeSent = op == opClose
	_ = c.nc.SetWriteDeadline(deadline)
	c.deadline = deadline
	_, err := c.nc.Write(b)
	return err
}

// appendHeader appends an unmasked, final frame header (RFC 6455 5.2).
func appendHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		return binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}
