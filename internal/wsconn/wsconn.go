// Package wsconn is the small seam between sockio and its RFC 6455 library.
//
// Everything above it (engineio, ws) speaks to this package only, so the
// library can be swapped by changing this one package. It deliberately
// exposes the few operations those layers need: accept, read a message,
// write a message from two parts (so a type prefix needs no copy), prepared
// frames for broadcasts, and close with a code.
package wsconn

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio/internal/netpoll"
)

// MessageType is the type of a data message.
type MessageType int

// The data message types of RFC 6455.
const (
	Text   MessageType = websocket.TextMessage
	Binary MessageType = websocket.BinaryMessage
)

// Close codes used by sockio (RFC 6455 section 7.4.1).
const (
	CloseNormal         = websocket.CloseNormalClosure
	CloseGoingAway      = websocket.CloseGoingAway
	CloseProtocolError  = websocket.CloseProtocolError
	CloseInvalidPayload = websocket.CloseInvalidFramePayloadData
	ClosePolicy         = websocket.ClosePolicyViolation
	CloseTooBig         = websocket.CloseMessageTooBig
	CloseInternal       = websocket.CloseInternalServerErr
)

// ErrMessageTooBig is returned by Read when a message exceeds the read limit.
var ErrMessageTooBig = errors.New("websocket message too big")

// AcceptOptions configure Accept.
type AcceptOptions struct {
	// ReadLimit bounds one message in bytes; 0 means no limit.
	ReadLimit int64
	// Compression negotiates permessage-deflate when the client offers it.
	Compression bool
	// CompressionThreshold is the smallest message that is compressed.
	CompressionThreshold int
	// CheckOrigin reports whether the request's Origin is acceptable; nil accepts all,
	// as Engine.IO leaves origin policy to CORS and allowRequest.
	CheckOrigin func(r *http.Request) bool
	// Subprotocols the server supports, in order of preference.
	Subprotocols []string
	// Header is added to the handshake response (cookies, for example).
	Header http.Header
	// ReadBufferSize and WriteBufferSize size the I/O buffers; 0 picks small defaults.
	ReadBufferSize, WriteBufferSize int
	// Greeting, when set, is the connection's first text message. In batch
	// mode it goes out in the same write as the handshake response, which
	// saves a system call (and a wake-up of the peer) per connection.
	Greeting []byte
	// Batch lets WriteFrames put many messages in one system call. Without
	// compression the connection then does its own handshake and reads and
	// writes its own frames, control frames included: use Read, Write,
	// WriteFrames and Close, not the streaming readers and writers.
	Batch bool
}

// Conn is one WebSocket connection. One goroutine may read and one may write
// at a time; Close may be called from any goroutine.
type Conn struct {
	c         *websocket.Conn
	threshold int
	compress  bool

	// Batch mode (see AcceptOptions.Batch): c is nil, frames are read and
	// written on nc by this package only; writes hold wmu.
	raw         bool
	subprotocol string
	nc          net.Conn
	rc          syscall.RawConn // for TryWriteFrames; nil if nc is not a plain socket
	rr          *frameReader    // batch mode on a plain socket: reads bypass the library
	wmu         sync.Mutex
	closeSent   bool      // under wmu: nothing may follow a close frame
	deadline    time.Time // under wmu: the write deadline last set

	pmu    sync.Mutex     // guards watch and closed
	watch  *netpoll.Watch // see Watch
	closed bool           // Close or CloseNow was called
}

// writeBufferPool shares write buffers between idle connections, so an idle
// connection holds no write buffer at all.
var writeBufferPool = &poolAdapter{}

// Accept completes the WebSocket handshake on w and r.
func Accept(w http.ResponseWriter, r *http.Request, opts AcceptOptions) (*Conn, error) {
	checkOrigin := opts.CheckOrigin
	if checkOrigin == nil {
		checkOrigin = func(*http.Request) bool { return true }
	}
	if opts.Batch && !(opts.Compression && offersDeflate(r)) {
		return acceptBatch(w, r, opts, checkOrigin)
	}
	up := websocket.Upgrader{
		ReadBufferSize:    orDefault(opts.ReadBufferSize, 1024),
		WriteBufferSize:   orDefault(opts.WriteBufferSize, 4096),
		WriteBufferPool:   writeBufferPool,
		CheckOrigin:       checkOrigin,
		EnableCompression: opts.Compression,
		Subprotocols:      opts.Subprotocols,
		// The handshake error is written by gorilla; we only report it.
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, http.StatusText(status), status)
		},
	}
	c, err := up.Upgrade(w, r, opts.Header)
	if err != nil {
		return nil, fmt.Errorf("failed to accept websocket: %w", err)
	}
	if opts.ReadLimit > 0 {
		c.SetReadLimit(opts.ReadLimit)
	}
	conn := &Conn{c: c, threshold: opts.CompressionThreshold, compress: opts.Compression}
	if opts.Greeting != nil {
		if err := conn.Write(Text, opts.Greeting, nil, true); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("failed to write websocket greeting: %w", err)
		}
	}
	return conn, nil
}

// IsUpgrade reports whether r asks for a WebSocket upgrade.
func IsUpgrade(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }

// Read reads the next data message. Control frames are handled inside.
func (c *Conn) Read() (MessageType, []byte, error) {
	if c.rr != nil {
		return c.rr.Read()
	}
	typ, data, err := c.c.ReadMessage()
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			return 0, nil, ErrMessageTooBig
		}
		return 0, nil, err
	}
	if typ == websocket.TextMessage && !utf8.Valid(data) {
		return 0, nil, c.failUTF8() // gorilla does not check text
	}
	return MessageType(typ), data, nil
}

// Write writes one message made of head followed by body (either may be
// empty), so a one-byte type prefix needs no copy of the body. compress
// allows compression when it was negotiated and the message is above the
// threshold.
func (c *Conn) Write(typ MessageType, head, body []byte, compress bool) error {
	if c.raw {
		return c.WriteFrames([]Frame{{Type: typ, Head: head, Body: body}}, time.Time{})
	}
	if c.compress {
		c.c.EnableWriteCompression(compress && len(head)+len(body) >= c.threshold)
	}
	w, err := c.c.NextWriter(int(typ))
	if err != nil {
		return err
	}
	if len(head) > 0 {
		if _, err := w.Write(head); err != nil {
			return err
		}
	}
	if len(body) > 0 {
		if _, err := w.Write(body); err != nil {
			return err
		}
	}
	return w.Close()
}

// SetWriteDeadline bounds the next writes; a peer that does not read is cut off.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.raw {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		c.deadline = t
		return c.nc.SetWriteDeadline(t)
	}
	return c.c.SetWriteDeadline(t)
}

// SetReadDeadline bounds the next reads.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.raw {
		return c.nc.SetReadDeadline(t)
	}
	return c.c.SetReadDeadline(t)
}

// CloseNoStatus, given to Close, sends a close frame without a status
// code: the peer sees 1005, as with the reference server's ws.close().
const CloseNoStatus = websocket.CloseNoStatusReceived

// Close sends a close frame with code and reason (best effort, bounded by a
// short deadline) and closes the connection.
func (c *Conn) Close(code int, reason string) error {
	msg := websocket.FormatCloseMessage(code, reason) // empty for CloseNoStatus
	if c.raw {
		c.markClosed()
		// A writer stuck on a peer that does not read holds the lock: then
		// there is no point in a close frame, and waiting would stall the
		// caller (often a broadcast) for the whole write timeout.
		if c.wmu.TryLock() {
			_ = c.writeControlLocked(opClose, msg, time.Now().Add(time.Second))
			c.wmu.Unlock()
		}
		return c.nc.Close()
	}
	_ = c.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	return c.c.Close()
}

// CloseNow closes the connection without a close frame.
func (c *Conn) CloseNow() error {
	if c.raw {
		c.markClosed()
		return c.nc.Close()
	}
	return c.c.Close()
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr {
	if c.raw {
		return c.nc.RemoteAddr()
	}
	return c.c.RemoteAddr()
}

// Subprotocol is the negotiated subprotocol, if any.
func (c *Conn) Subprotocol() string {
	if c.raw {
		return c.subprotocol
	}
	return c.c.Subprotocol()
}

// CloseCode returns the close code carried by err when the peer closed the
// connection with a close frame, and -1 otherwise.
func CloseCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}
