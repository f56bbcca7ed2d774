package wsconn

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// The remaining close codes of RFC 6455 section 7.4.1 that the plain
// WebSocket layer reports.
const (
	CloseUnsupportedData = websocket.CloseUnsupportedData
	CloseAbnormal        = websocket.CloseAbnormalClosure
	CloseMandatoryExt    = websocket.CloseMandatoryExtension
)

// ErrInvalidPayload marks a read that failed because a compressed message
// could not be inflated; the connection should be closed with
// CloseInvalidPayload.
var ErrInvalidPayload = errors.New("websocket invalid frame payload data")

// PeerCloseError is returned by reads after the peer sent a close frame.
// Code is CloseNoStatus when the frame had no body.
type PeerCloseError struct {
	Code   int
	Reason string
}

func (e *PeerCloseError) Error() string {
	return fmt.Sprintf("websocket closed by peer: %d %q", e.Code, e.Reason)
}

// NextReader waits for the next data message and returns a reader for its
// payload, which yields bytes as frames arrive. Control frames are handled
// inside. The reader is valid until the next call to NextReader.
//
// Errors are mapped so callers need not know the library: *PeerCloseError,
// ErrMessageTooBig (the close frame 1009 is already sent), an error wrapping
// ErrProtocol or ErrInvalidPayload, or an I/O error (io.EOF,
// io.ErrUnexpectedEOF, a net.Error).
func (c *Conn) NextReader() (MessageType, io.Reader, error) {
	if c.c == nil {
		return 0, nil, errBatchMode
	}
	typ, r, err := c.c.NextReader()
	if err != nil {
		return 0, nil, mapReadError(err)
	}
	return MessageType(typ), mappedReader{r}, nil
}

type mappedReader struct{ r io.Reader }

func (m mappedReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		err = mapReadError(err)
	}
	return n, err
}

func mapReadError(err error) error {
	var ce *websocket.CloseError
	var ne net.Error
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &ce):
		if ce.Code == websocket.CloseAbnormalClosure {
			return io.ErrUnexpectedEOF // gorilla's name for EOF inside a frame
		}
		return &PeerCloseError{Code: ce.Code, Reason: ce.Text}
	case errors.Is(err, websocket.ErrReadLimit):
		return ErrMessageTooBig
	case errors.Is(err, ErrProtocol), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.As(err, &ne):
		return err
	case errors.As(err, &corrupt):
		return fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	var internal flate.InternalError
	if errors.As(err, &internal) {
		return fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	// What is left are gorilla's protocol errors ("websocket: bad MASK",
	// "websocket: RSV2 set", ...); gorilla has already sent close 1002.
	return fmt.Errorf("%w: %v", ErrProtocol, err)
}

// NextWriter starts a message and returns its writer; the message ends when
// the writer is closed. compress allows compression when it was negotiated
// (the threshold does not apply: the size is unknown). Only one writer may
// be open at a time, and no other Write may run meanwhile.
func (c *Conn) NextWriter(typ MessageType, compress bool) (io.WriteCloser, error) {
	if c.c == nil {
		return nil, errBatchMode
	}
	if c.compress {
		c.c.EnableWriteCompression(compress)
	}
	w, err := c.c.NextWriter(int(typ))
	if err != nil {
		return nil, fmt.Errorf("failed to start a message: %w", err)
	}
	return w, nil
}

// Prepared is a message encoded once and written to many connections. The
// library keeps one frame per variant (plain, compressed).
type Prepared struct {
	pm   *websocket.PreparedMessage
	size int
}

// NewPrepared prepares a message of typ with payload data; data must not
// be modified afterwards.
func NewPrepared(typ MessageType, data []byte) (*Prepared, error) {
	pm, err := websocket.NewPreparedMessage(int(typ), data)
	if err != nil {
		return nil, fmt.Errorf("failed to prepare message: %w", err)
	}
	return &Prepared{pm: pm, size: len(data)}, nil
}

// WritePrepared writes a prepared message, compressed when negotiated and
// the message reaches the threshold.
func (c *Conn) WritePrepared(p *Prepared) error {
	if c.c == nil {
		return errBatchMode
	}
	if c.compress {
		c.c.EnableWriteCompression(p.size >= c.threshold)
	}
	return c.c.WritePreparedMessage(p.pm)
}

// Ping sends a ping frame. It may be called concurrently with a writer.
func (c *Conn) Ping(data []byte, deadline time.Time) error {
	if c.c == nil {
		return errBatchMode
	}
	return c.c.WriteControl(websocket.PingMessage, data, deadline)
}

// WriteClose sends a close frame without closing the connection, so the
// peer's reply can still be read. It may be called concurrently with a
// writer. CloseNoStatus sends an empty body.
func (c *Conn) WriteClose(code int, reason string, deadline time.Time) error {
	if c.c == nil {
		return errBatchMode
	}
	return c.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
}

// SetReadLimit bounds one message in bytes as it arrives on the wire; 0
// means no limit. Past it the library sends close 1009.
func (c *Conn) SetReadLimit(n int64) {
	if c.raw {
		c.rr.limit = n
		return
	}
	c.c.SetReadLimit(n)
}

// OnPong registers f, called from the reading goroutine for each pong.
func (c *Conn) OnPong(f func()) {
	if c.c == nil {
		panic(errBatchMode) // a batch-mode reader answers pings itself and ignores pongs
	}
	c.c.SetPongHandler(func(string) error { f(); return nil })
}

// OnPing registers f, called from the reading goroutine for each ping after
// the library's pong reply is sent.
func (c *Conn) OnPing(f func()) {
	if c.c == nil {
		panic(errBatchMode)
	}
	reply := c.c.PingHandler()
	c.c.SetPingHandler(func(data string) error {
		f()
		return reply(data)
	})
}

// LocalAddr is this end's address.
func (c *Conn) LocalAddr() net.Addr {
	if c.raw {
		return c.nc.LocalAddr()
	}
	return c.c.LocalAddr()
}

// errBatchMode: a batch-mode connection (AcceptOptions.Batch without
// compression) does its own framing and has no library connection behind
// it, so the streaming methods are not available.
var errBatchMode = errors.New("wsconn: streaming methods are not available on a batch-mode connection")

// ErrCloseSent is returned by writes after a close frame was sent.
var ErrCloseSent = websocket.ErrCloseSent

// Linger ends a failed connection gently: it closes the write side, reads
// and drops what the peer still sends until it closes or d passes, then
// closes. Closing a socket with unread input makes the kernel send a reset,
// which can destroy the close frame just written before the peer reads it.
func (c *Conn) Linger(d time.Duration) {
	nc := c.nc
	if !c.raw {
		nc = c.c.NetConn()
	}
	if g, ok := nc.(*frameGuard); ok {
		nc = g.Conn // the guard has failed; read past it
	}
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = nc.SetReadDeadline(time.Now().Add(d))
		_, _ = io.Copy(io.Discard, nc)
	}
	_ = nc.Close()
}
