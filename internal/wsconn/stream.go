package wsconn

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// NextReader waits for the next data message and returns a reader for its
// payload (inflated if compressed), which yields bytes as frames arrive.
// Control frames are handled inside. The reader is valid until the next
// call to NextReader, which drops what is left of it; do not mix it with
// Read on one connection. Text is not checked
// as UTF-8 here: the caller checks the stream.
//
// Errors: *PeerCloseError, ErrMessageTooBig (the close frame 1009 is
// already sent), an error wrapping ErrProtocol or ErrInvalidPayload, or an
// I/O error (io.EOF, io.ErrUnexpectedEOF, a net.Error).
func (c *Conn) NextReader() (MessageType, io.Reader, error) {
	fr := c.rr
	if mr := fr.stream; mr != nil && !mr.done {
		// Drop the rest of the previous message; a compressed one is
		// inflated all the same, as its window may serve the next.
		if _, err := io.Copy(io.Discard, mr); err != nil {
			return 0, nil, err
		}
	}
	for {
		h, err := fr.header()
		if err != nil {
			return 0, nil, fr.release(err)
		}
		if h.op >= 0x8 {
			payload, err := fr.payload(nil, h)
			if err == nil {
				err = fr.control(h.op, payload)
			}
			if err != nil {
				return 0, nil, fr.release(err)
			}
			continue
		}
		if h.op == 0 {
			return 0, nil, fr.release(fr.fail(CloseProtocolError, "continuation frame without a message"))
		}
		mr := fr.stream
		if mr == nil {
			mr = &messageReader{fr: fr}
			fr.stream = mr
		}
		mr.begin(h)
		if l := mr.limit(); l > 0 && h.length > fr.wireLimit(mr.compressed) {
			mr.in.finish()
			mr.err = fr.release(fr.tooBig())
			return 0, nil, mr.err
		}
		return MessageType(h.op), mr, nil
	}
}

// release returns the read buffer of a connection that failed.
func (fr *frameReader) release(err error) error {
	if fr.buf != nil {
		readBufPool.Put(fr.buf)
		fr.buf, fr.r, fr.w = nil, 0, 0
		fr.held.Store(0)
	}
	return err
}

// messageReader reads one message as its frames arrive.
type messageReader struct {
	fr        *frameReader
	h         frameHeader // the frame at hand
	remaining uint64      // its payload bytes not yet read
	pos       int         // its payload bytes read: the mask's phase
	wire      uint64      // payload bytes of the message so far
	done      bool        // the message was read to its end
	err       error

	compressed bool
	in         inflater
	srcBuf     []byte
}

func (mr *messageReader) begin(h frameHeader) {
	mr.h, mr.remaining, mr.pos, mr.wire = h, h.length, 0, h.length
	mr.done, mr.err, mr.compressed = false, nil, h.rsv1
	if mr.compressed {
		if mr.srcBuf == nil {
			mr.srcBuf = make([]byte, 1024)
		}
		mr.fr.c.defl.start(&mr.in, mr.readRaw, mr.srcBuf)
	}
}

// limit is the read limit, 0 for none.
func (mr *messageReader) limit() uint64 {
	if mr.fr.limit > 0 {
		return uint64(mr.fr.limit)
	}
	return 0
}

func (mr *messageReader) Read(p []byte) (int, error) {
	if mr.err != nil {
		return 0, mr.err
	}
	if mr.done {
		return 0, io.EOF
	}
	var n int
	var err error
	if mr.compressed {
		n, err = mr.in.Read(p)
		if l := mr.limit(); l > 0 && mr.in.n > l {
			n, err = 0, mr.fr.tooBig()
		}
		switch {
		case err == io.EOF:
			mr.in.finish()
		case err != nil && errors.Is(err, ErrInvalidPayload):
			err = mr.fr.badPayload(err)
		}
	} else {
		n, err = mr.readRaw(p)
	}
	switch {
	case err == io.EOF:
		mr.done = true
	case err != nil:
		if mr.compressed {
			mr.in.finish()
		}
		mr.err = mr.fr.release(err)
	}
	return n, err
}

// readRaw reads the message's payload across its frames, handling the
// control frames between them; io.EOF after the final frame.
func (mr *messageReader) readRaw(p []byte) (int, error) {
	fr := mr.fr
	for mr.remaining == 0 {
		if mr.h.fin {
			return 0, io.EOF
		}
		h, err := fr.header()
		if err != nil {
			return 0, unexpected(err)
		}
		if h.op >= 0x8 {
			payload, err := fr.payload(nil, h)
			if err == nil {
				err = fr.control(h.op, payload)
			}
			if err != nil {
				return 0, err
			}
			continue
		}
		if h.op != 0 {
			return 0, fr.fail(CloseProtocolError, "new message inside a fragmented one")
		}
		mr.h, mr.remaining, mr.pos = h, h.length, 0
		mr.wire += h.length
		if l := mr.limit(); l > 0 && mr.wire > fr.wireLimit(mr.compressed) {
			return 0, fr.tooBig()
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	p = p[:min(uint64(len(p)), mr.remaining)]
	var n int
	if fr.buf != nil {
		n = copy(p, (*fr.buf)[fr.r:fr.w])
		fr.consume(n)
	} else {
		var err error
		if n, err = fr.read(p); err != nil {
			return 0, unexpected(err)
		}
	}
	if mr.h.masked {
		unmaskAt(mr.h.mask, mr.pos, p[:n])
	}
	mr.pos += n
	mr.remaining -= uint64(n)
	return n, nil
}

// unmaskAt unmasks b, which starts at offset pos of a frame's payload.
func unmaskAt(key [4]byte, pos int, b []byte) {
	if s := pos & 3; s != 0 {
		key = [4]byte{key[s&3], key[(s+1)&3], key[(s+2)&3], key[(s+3)&3]}
	}
	unmask(key, b)
}

// NextWriter starts a message and returns its writer; the message ends when
// the writer is closed. It is cut into frames of at most WriteBufferSize
// bytes (as sent: compressed, if it is). compress allows compression when
// it was negotiated (the threshold does not apply: the size is unknown).
// Only one writer may be open at a time, and no other Write may run
// meanwhile; control frames may go out between its frames.
func (c *Conn) NextWriter(typ MessageType, compress bool) (io.WriteCloser, error) {
	w := &messageWriter{c: c, op: byte(typ)}
	w.compressed = compress && c.defl != nil
	w.buf = make([]byte, 0, c.fragment+4) // +4: see Write
	return w, nil
}

type messageWriter struct {
	c          *Conn
	op         byte // the next frame's opcode: the type, then continuation
	compressed bool
	buf        []byte // payload not yet sent (compressed, if so)
	closed     bool
	err        error
}

func (w *messageWriter) Write(p []byte) (int, error) {
	switch {
	case w.closed:
		return 0, errors.New("wsconn: write to a closed message writer")
	case w.err != nil:
		return 0, w.err
	}
	if w.compressed {
		// Compressed as it comes, so that a long message goes out in
		// frames as it is written, not all at Close.
		w.buf = w.c.compressChunk(w.buf, p)
		for len(w.buf) > w.c.fragment+4 {
			// Keep 4 bytes back: they may be the start of the tail.
			if err := w.flush(w.buf[:w.c.fragment], false); err != nil {
				return 0, err
			}
			w.buf = w.buf[:copy(w.buf, w.buf[w.c.fragment:])]
		}
		return len(p), nil
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == w.c.fragment {
			if err := w.flush(w.buf, false); err != nil {
				return n, err
			}
			w.buf = w.buf[:0]
		}
		k := copy(w.buf[len(w.buf):w.c.fragment], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n = p[k:], n+k
	}
	return n, nil
}

// Close sends what is left as the final frame.
func (w *messageWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.compressed {
		w.buf = w.c.endCompressed(w.buf)
		for len(w.buf) > w.c.fragment {
			if err := w.flush(w.buf[:w.c.fragment], false); err != nil {
				return err
			}
			w.buf = w.buf[:copy(w.buf, w.buf[w.c.fragment:])]
		}
	}
	return w.flush(w.buf, true)
}

func (w *messageWriter) flush(payload []byte, fin bool) error {
	b0 := w.op
	if fin {
		b0 |= 0x80
	}
	if w.compressed && w.op != 0 {
		b0 |= 0x40 // RSV1 on the first frame only (RFC 7692 6)
	}
	w.op = 0
	if err := w.c.writeFrame(b0, payload); err != nil {
		w.err = err
		return err
	}
	return nil
}

// compressChunk appends p, compressed, to dst; the message's compressor
// is kept in the connection until endCompressed.
func (c *Conn) compressChunk(dst, p []byte) []byte {
	d := c.defl
	if d.streaming == nil {
		if d.compressTakeover {
			if d.fw == nil {
				d.fw, _ = flate.NewWriter(&d.sink, compressLevel)
			}
			d.streaming = d.fw
		} else {
			d.streaming = writerPool.Get().(*flate.Writer)
			d.streaming.Reset(&d.sink)
		}
	}
	d.sink.b = dst
	_, _ = d.streaming.Write(p)
	out := d.sink.b
	d.sink.b = nil
	return out
}

// endCompressed flushes the message's compressor into dst and drops the
// tail (RFC 7692 7.2.1).
func (c *Conn) endCompressed(dst []byte) []byte {
	if c.defl.streaming == nil {
		c.compressChunk(dst, nil)
	}
	d := c.defl
	d.sink.b = dst
	_ = d.streaming.Flush()
	out := d.sink.b
	d.sink.b = nil
	if !d.compressTakeover {
		d.streaming.Reset(nil)
		writerPool.Put(d.streaming)
	}
	d.streaming = nil
	return out[:len(out)-4]
}

// Prepared is a message encoded once and written to many connections:
// its plain frame is built once, and its compressed payload once for all
// the connections that do not keep a compression context.
type Prepared struct {
	typ   MessageType
	data  []byte
	frame []byte // the unmasked, uncompressed frame

	once       sync.Once
	compressed []byte // the payload without context, the tail removed
}

// NewPrepared prepares a message of typ with payload data; data must not
// be modified afterwards.
func NewPrepared(typ MessageType, data []byte) (*Prepared, error) {
	if typ != Text && typ != Binary {
		return nil, fmt.Errorf("failed to prepare message: invalid type %d", typ)
	}
	frame := appendHeader(make([]byte, 0, len(data)+10), byte(typ), len(data))
	return &Prepared{typ: typ, data: data, frame: append(frame, data...)}, nil
}

// WritePrepared writes a prepared message, compressed when negotiated and
// the message reaches the threshold.
func (c *Conn) WritePrepared(p *Prepared) error {
	compress := c.defl != nil && len(p.data) >= c.threshold
	if !c.client && !compress {
		return c.writeRaw(p.frame)
	}
	if compress && !c.defl.compressTakeover {
		p.once.Do(func() {
			d := deflate{}
			p.compressed = d.compress(nil, p.data)
		})
		return c.writeFrame(0xC0|byte(p.typ), p.compressed)
	}
	return c.Write(p.typ, nil, p.data, true)
}

// Ping sends a ping frame. It may be called concurrently with a writer.
func (c *Conn) Ping(data []byte, deadline time.Time) error {
	return c.writeControl(opPing, data, deadline)
}

// WriteClose sends a close frame without closing the connection, so the
// peer's reply can still be read. It may be called concurrently with a
// writer. CloseNoStatus sends an empty body.
func (c *Conn) WriteClose(code int, reason string, deadline time.Time) error {
	return c.writeControl(opClose, closeBody(code, reason), deadline)
}

// OnPong registers f, called from the reading goroutine for each pong.
// Set it before reading starts.
func (c *Conn) OnPong(f func()) { c.onPong = f }

// OnPing registers f, called from the reading goroutine for each ping after
// the pong reply is sent. Set it before reading starts.
func (c *Conn) OnPing(f func()) { c.onPing = f }

// Linger ends a failed connection gently: it closes the write side, reads
// and drops what the peer still sends until it closes or d passes, then
// closes. Closing a socket with unread input makes the kernel send a reset,
// which can destroy the close frame just written before the peer reads it.
func (c *Conn) Linger(d time.Duration) {
	nc := c.nc
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = nc.SetReadDeadline(time.Now().Add(d))
		_, _ = io.Copy(io.Discard, nc)
	}
	_ = nc.Close()
}
