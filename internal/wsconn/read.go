package wsconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// ErrInvalidUTF8 is returned by Read for a text message that is not valid
// UTF-8, on every kind of connection (compressed or not, server or client);
// the peer is sent close 1007, as RFC 6455 8.1 asks.
var ErrInvalidUTF8 = errors.New("websocket text message is not valid UTF-8")

// ErrIdle is returned by WaitData, once enabled with ReturnWhenIdle, when
// no byte has arrived for the set time. Nothing is lost: the caller should
// go on (WaitData, then Read) from a fresh goroutine, or Watch. A
// goroutine's stack grows while it handles messages and the runtime cannot
// shrink it below 4 KiB while it is parked deep in a read, so handing the
// wait to a new goroutine (2 KiB) halves the stack of an idle connection.
var ErrIdle = errors.New("websocket connection idle")

// readBufSize is the size of the buffer a connection borrows while it has
// bytes buffered; headers, control frames and small messages go through it,
// larger payloads are read straight into the message.
const readBufSize = 4096

var readBufPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// frameReader reads the peer's frames straight from the socket. Compared
// with a reader over a bufio.Reader it:
//   - holds no buffer while idle: one is borrowed from a pool only while
//     bytes are buffered, and the goroutine parks in a shallow frame, so
//     the runtime can shrink its stack to the minimum;
//   - allocates a message that arrives in one read at its size, once.
//
// Read still makes the read that says EAGAIN before parking. Skipping it
// after a short read (as libuv does) is not safe under Go's edge-triggered
// poller: a FIN that came with the data raises no further edge, and the
// connection would never see its EOF (FuzzFrameReader found it). Reads
// from a poller (poll.go) skip it: that poller is level-triggered.
type frameReader struct {
	c      *Conn
	rc     syscall.RawConn
	limit  int64
	stream *messageReader // NextReader's, kept for the next message

	buf  *[]byte      // nil while nothing is buffered
	r, w int          // (*buf)[r:w] is unread
	held atomic.Int64 // w-r, for Unread on another goroutine

	// Idle detection (ReturnWhenIdle): a read deadline set at most once
	// per period, not per read.
	idleAfter time.Duration
	armed     bool          // the idle deadline is set
	active    bool          // bytes arrived since it was set
	resume    time.Duration // idleAfter, while idle after ErrIdle
	mayIdle   bool          // in WaitData: ErrIdle may be returned

	// Reads from a poller (see poll.go) never wait, not even to write: a
	// message ReadBuffered finds broken is kept in err, with the close
	// frame it calls for in closing, for the next Read to send and report;
	// an error FillNow's read met is kept in readErr, for read1.
	err      error
	readErr  error  // what FillNow's read met, for read1 to return
	deferred bool   // in ReadBuffered: closing keeps the close frame
	closing  []byte // a close frame's body, not yet sent
	mustSend bool   // closing is set (it may be empty: no status code)
}

// ReturnWhenIdle makes WaitData return ErrIdle after d without a byte. The
// read deadline is then its own: do not also call SetReadDeadline. Call it
// from the reading goroutine.
func (c *Conn) ReturnWhenIdle(d time.Duration) {
	switch {
	case c.rr == nil:
	case c.rr.resume > 0:
		c.rr.resume = d // idle since the last ErrIdle: no timer until bytes come
	default:
		c.rr.idleAfter = d
	}
}

// Read reads the next data message; pings are answered and a close is
// echoed.
func (fr *frameReader) Read() (MessageType, []byte, error) {
	var (
		typ MessageType
		msg []byte
		err = fr.err // a failure ReadBuffered found (FillNow's reach read1)
	)
	if err != nil {
		if fr.mustSend {
			fr.mustSend = false
			_ = fr.c.writeControl(opClose, fr.closing, time.Now().Add(time.Second))
		}
	} else {
		typ, msg, err = fr.next()
	}
	if err != nil && fr.buf != nil {
		// The connection is done for: whatever is buffered is never read.
		readBufPool.Put(fr.buf)
		fr.buf, fr.r, fr.w = nil, 0, 0
		fr.held.Store(0)
	}
	return typ, msg, err
}

func (fr *frameReader) next() (MessageType, []byte, error) {
	var (
		msg        []byte
		typ        MessageType
		started    bool
		compressed bool
	)
	for {
		h, err := fr.header()
		if err != nil {
			return 0, nil, err
		}
		if h.op >= 0x8 {
			payload, err := fr.payload(nil, h)
			if err != nil {
				return 0, nil, err
			}
			if err := fr.control(h.op, payload); err != nil {
				return 0, nil, err
			}
			continue
		}
		switch {
		case h.op == 0 && !started:
			return 0, nil, fr.fail(CloseProtocolError, "continuation frame without a message")
		case h.op != 0 && started:
			return 0, nil, fr.fail(CloseProtocolError, "new message inside a fragmented one")
		case h.op != 0:
			typ, started, compressed = MessageType(h.op), true, h.rsv1
		}
		if uint64(len(msg))+h.length > fr.wireLimit(compressed) {
			return 0, nil, fr.tooBig()
		}
		if msg, err = fr.payload(msg, h); err != nil {
			return 0, nil, err
		}
		if h.fin {
			if compressed {
				if msg, err = fr.inflate(msg); err != nil {
					return 0, nil, err
				}
			}
			if typ == Text && !utf8.Valid(msg) {
				return 0, nil, fr.badUTF8()
			}
			if msg == nil {
				msg = []byte{}
			}
			return typ, msg, nil
		}
	}
}

// inflate returns the inflated message, bounded by the read limit.
func (fr *frameReader) inflate(payload []byte) ([]byte, error) {
	d := fr.c.defl
	if d.whole == nil {
		// Kept for the connection's life: flate holds on to the source,
		// so a fresh one per message would escape to the heap anyway.
		d.whole = &wholeInflater{}
		d.whole.next = func(p []byte) (int, error) {
			if len(d.whole.payload) == 0 {
				return 0, io.EOF
			}
			n := copy(p, d.whole.payload)
			d.whole.payload = d.whole.payload[n:]
			return n, nil
		}
	}
	w := d.whole
	w.payload = payload
	in := &w.in
	d.start(in, w.next, w.buf[:])
	defer func() { in.finish(); w.payload = nil }()
	limit := fr.maxLen()
	out := make([]byte, 0, min(uint64(2*len(payload)+64), limit+1))
	for {
		if len(out) == cap(out) {
			out = slices.Grow(out, int(min(uint64(len(out)), maxStep, limit+1-uint64(len(out)))))
		}
		n, err := in.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if uint64(len(out)) > limit {
			return nil, fr.tooBig()
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fr.badPayload(err)
		}
	}
}

// wireLimit is the largest frame payload total read for a message: the
// limit, or for a compressed one a little more, as deflate may grow
// incompressible data by a few bytes per block; its inflated size is
// checked against the limit itself.
func (fr *frameReader) wireLimit(compressed bool) uint64 {
	n := fr.maxLen()
	if compressed {
		n += n/64 + 1024
	}
	return n
}

type frameHeader struct {
	fin    bool
	rsv1   bool // a compressed message's first frame
	op     byte
	length uint64
	masked bool
	mask   [4]byte
}

// header reads and checks one frame header.
func (fr *frameReader) header() (frameHeader, error) {
	if err := fr.ensure(2); err != nil {
		return frameHeader{}, err
	}
	for {
		h, n, bad := parseHeader((*fr.buf)[fr.r:fr.w], !fr.c.client, fr.c.defl != nil)
		if bad != "" {
			return h, fr.fail(CloseProtocolError, bad)
		}
		if n > 0 {
			fr.consume(n)
			return h, nil
		}
		if err := fr.ensure(fr.w - fr.r + 1); err != nil {
			return h, err
		}
	}
}

// parseHeader decodes and checks the frame header at the start of b (RFC
// 6455 5.2): a client's frames are masked, a server's are not; RSV1 marks
// the first frame of a compressed message when deflate was negotiated
// (RFC 7692 6), and nothing else. It returns the header's size, or 0 while
// b holds only part of it; bad, when not empty, is the violation the
// connection fails for (found from the first two bytes already, where it
// can be).
func parseHeader(b []byte, fromClient, deflate bool) (h frameHeader, size int, bad string) {
	if len(b) < 2 {
		return h, 0, ""
	}
	b0, b1 := b[0], b[1]
	h.fin, h.op, h.rsv1 = b0&0x80 != 0, b0&0x0f, b0&0x40 != 0
	masked := b1&0x80 != 0
	switch {
	case b0&0x30 != 0 || h.rsv1 && !deflate:
		return h, 0, "reserved bits set"
	case h.op > 2 && h.op < 8 || h.op > 10:
		return h, 0, fmt.Sprintf("unknown opcode %d", h.op)
	case h.rsv1 && (h.op == 0 || h.op >= 8):
		return h, 0, "RSV1 set on a control or continuation frame"
	case fromClient && !masked:
		return h, 0, "unmasked client frame"
	case !fromClient && masked:
		return h, 0, "masked server frame"
	case h.op >= 8 && (!h.fin || b1&0x7f > 125):
		return h, 0, "fragmented or long control frame"
	}
	n := 2
	if masked {
		n += 4 // the mask key
	}
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if len(b) < n {
		return h, 0, ""
	}
	switch b1 & 0x7f {
	case 126:
		h.length = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		h.length = binary.BigEndian.Uint64(b[2:])
		if h.length>>63 != 0 {
			return h, 0, "payload length has its most significant bit set"
		}
	default:
		h.length = uint64(b1 & 0x7f)
	}
	if masked {
		h.masked = true
		copy(h.mask[:], b[n-4:n])
	}
	return h, n, ""
}

// payload appends the frame's unmasked payload to msg. The message grows
// with what arrives, not with what the header claims: a peer that
// announces a megabyte and stalls pins at most maxStep.
func (fr *frameReader) payload(msg []byte, h frameHeader) ([]byte, error) {
	start := len(msg) // the caller checked the length against maxLen
	for remaining := int(h.length); remaining > 0; {
		if fr.buf != nil {
			n := min(remaining, fr.w-fr.r)
			msg = append(msg, (*fr.buf)[fr.r:fr.r+n]...)
			fr.consume(n)
			remaining -= n
			continue
		}
		if len(msg) == cap(msg) {
			msg = slices.Grow(msg, min(remaining, max(len(msg), maxStep)))
		}
		room := msg[len(msg):cap(msg)]
		n, err := fr.read(room[:min(len(room), remaining)])
		if err != nil {
			return nil, unexpected(err)
		}
		msg = msg[:len(msg)+n]
		remaining -= n
	}
	if h.masked {
		unmask(h.mask, msg[start:])
	}
	return msg, nil
}

// maxLen is the largest message accepted: the read limit, or maxMessage
// when none is set.
func (fr *frameReader) maxLen() uint64 {
	if fr.limit > 0 {
		return uint64(fr.limit)
	}
	return maxMessage
}

const (
	// maxStep bounds one growth of a message ahead of its bytes.
	maxStep = 64 << 10
	// maxMessage bounds a message when no read limit is set.
	maxMessage = 1 << 31
)

// control handles a ping, pong or close frame.
func (fr *frameReader) control(op byte, payload []byte) error {
	switch op {
	case opPing:
		err := fr.c.writeControl(opPong, payload, time.Now().Add(time.Second))
		if f := fr.c.onPing; f != nil {
			f()
		}
		var ne interface{ Timeout() bool }
		if err == nil || errors.Is(err, ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil // a slow peer is not an error here; nor a pong after our close
		}
		return err
	case opPong:
		if f := fr.c.onPong; f != nil {
			f()
		}
		return nil
	}
	code, reason := CloseNoStatus, ""
	switch {
	case len(payload) == 1:
		return fr.fail(CloseProtocolError, "close frame with a 1-byte payload")
	case len(payload) >= 2:
		code, reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
		if !validCloseCode(code) {
			return fr.fail(CloseProtocolError, fmt.Sprintf("invalid close code %d", code))
		}
		if !utf8.ValidString(reason) {
			// A broken close frame, not a message: 1002, as Autobahn
			// (7.5.1) and the plain layer's peers expect.
			return fr.fail(CloseProtocolError, "close reason is not valid UTF-8")
		}
	}
	fr.sendClose(code, "") // echoed; without a code if it came without one
	return &PeerCloseError{Code: code, Reason: reason}
}

// validCloseCode reports whether a peer may send code (RFC 6455 7.4).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// sendClose writes a close frame, bounded by a short deadline (the peer
// may not be reading); CloseNoStatusReceived sends one without a body.
func (fr *frameReader) sendClose(code int, reason string) {
	body := closeBody(code, reason)
	if fr.deferred {
		fr.closing, fr.mustSend = body, true
		return
	}
	_ = fr.c.writeControl(opClose, body, time.Now().Add(time.Second))
}

// fail sends close with code and returns the protocol error.
func (fr *frameReader) fail(code int, why string) error {
	fr.sendClose(code, why)
	return fmt.Errorf("%w: %s", ErrProtocol, why)
}

func (fr *frameReader) tooBig() error {
	fr.sendClose(CloseTooBig, "")
	return ErrMessageTooBig
}

func (fr *frameReader) badUTF8() error {
	fr.sendClose(CloseInvalidPayload, "")
	return ErrInvalidUTF8
}

// badPayload sends close 1007 for a message that does not inflate.
func (fr *frameReader) badPayload(err error) error {
	fr.sendClose(CloseInvalidPayload, "")
	if !errors.Is(err, ErrInvalidPayload) {
		err = fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return err
}

// ensure makes at least n (≤ readBufSize) bytes available in the buffer.
func (fr *frameReader) ensure(n int) error {
	for fr.buf == nil || fr.w-fr.r < n {
		if fr.buf != nil && fr.r > 0 {
			b := *fr.buf
			fr.w = copy(b, b[fr.r:fr.w])
			fr.r = 0
		}
		partial := fr.buf != nil
		if _, err := fr.read(nil); err != nil {
			if partial {
				return unexpected(err) // a frame was cut off
			}
			return err
		}
	}
	return nil
}

// consume drops n buffered bytes and returns the buffer once it is empty.
func (fr *frameReader) consume(n int) {
	fr.r += n
	if fr.r == fr.w {
		readBufPool.Put(fr.buf)
		fr.buf, fr.r, fr.w = nil, 0, 0
	}
	fr.held.Store(int64(fr.w - fr.r))
}

// WaitData waits until bytes are buffered for the next Read (at once if
// some are). Its call chain is short on purpose: a goroutine parked here
// needs little stack. Only WaitData returns ErrIdle: Read may be inside a
// fragmented message, which must not be dropped.
func (c *Conn) WaitData() error {
	if c.rr == nil || c.rr.buf != nil || c.rr.err != nil || c.rr.readErr != nil {
		return nil
	}
	c.rr.mayIdle = true
	_, err := c.rr.read(nil)
	c.rr.mayIdle = false
	return err
}

// read reads into dst or, when dst is nil, into the free end of the
// buffer (borrowing one if needed). It parks without holding a buffer.
func (fr *frameReader) read(dst []byte) (int, error) {
	for {
		if fr.idleAfter > 0 && !fr.armed {
			_ = fr.c.nc.SetReadDeadline(time.Now().Add(fr.idleAfter))
			fr.armed, fr.active = true, false
		}
		n, err := fr.read1(dst, true)
		if err == nil || !fr.armed || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		// The idle deadline passed.
		if fr.active {
			fr.armed = false // bytes came meanwhile: another period
			continue
		}
		_ = fr.c.nc.SetReadDeadline(time.Time{})
		if fr.mayIdle && fr.buf == nil {
			// Set again once bytes come; until then the connection costs
			// no timer.
			fr.armed = false
			fr.idleAfter, fr.resume = 0, fr.idleAfter
			return 0, ErrIdle
		}
		fr.armed = false // mid-frame: go on waiting here
	}
}

// read1 makes one read into dst or the buffer. With wait, it waits for
// bytes; without, it reports syscall.EAGAIN when none are there.
func (fr *frameReader) read1(dst []byte, wait bool) (int, error) {
	if fr.readErr != nil {
		fr.releaseEmpty()
		return 0, fr.readErr
	}
	if fr.rc == nil {
		return fr.readConn(dst)
	}
	var n int
	var rerr error
	err := fr.rc.Read(func(fd uintptr) bool {
		n, rerr = readFD(fd, fr.space(dst))
		if rerr == syscall.EAGAIN {
			fr.releaseEmpty()
			return !wait
		}
		return true
	})
	if err != nil || rerr != nil || n <= 0 {
		fr.releaseEmpty()
	}
	switch {
	case err != nil:
		return 0, err
	case rerr == syscall.EAGAIN:
		return 0, rerr
	case rerr != nil:
		return 0, fmt.Errorf("failed to read websocket: %w", rerr)
	case n <= 0:
		return 0, io.EOF
	}
	return fr.got(n, dst), nil
}

// got records n bytes read into dst, or into the buffer if dst is nil.
func (fr *frameReader) got(n int, dst []byte) int {
	fr.active = true
	if fr.resume > 0 {
		// The first bytes after an idle spell: watch for the next one.
		fr.idleAfter, fr.resume, fr.armed = fr.resume, 0, false
	}
	if dst == nil {
		fr.w += n
		fr.held.Store(int64(fr.w - fr.r))
	}
	return n
}

// space returns where the next read goes: dst, or the free end of the
// buffer, borrowed if need be.
func (fr *frameReader) space(dst []byte) []byte {
	if dst != nil {
		return dst
	}
	if fr.buf == nil {
		fr.buf = readBufPool.Get().(*[]byte)
	}
	return (*fr.buf)[fr.w:]
}

// readConn is read1 for a connection without descriptor access (TLS, or
// not Linux): a plain blocking read, holding the buffer while it waits.
func (fr *frameReader) readConn(dst []byte) (int, error) {
	n, err := fr.c.nc.Read(fr.space(dst))
	if n > 0 {
		return fr.got(n, dst), nil
	}
	fr.releaseEmpty()
	if err == nil {
		err = io.ErrNoProgress
	}
	return 0, err
}

// releaseEmpty returns the buffer if nothing is in it.
func (fr *frameReader) releaseEmpty() {
	if fr.buf != nil && fr.r == fr.w {
		readBufPool.Put(fr.buf)
		fr.buf, fr.r, fr.w = nil, 0, 0
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// unmask XORs b with the client's masking key (RFC 6455 5.3), eight bytes
// at a time where it can.
func unmask(key [4]byte, b []byte) {
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32)<<32 | uint64(k32)
	for len(b) >= 8 {
		v := binary.LittleEndian.Uint64(b)
		binary.LittleEndian.PutUint64(b, v^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[i&3]
	}
}
