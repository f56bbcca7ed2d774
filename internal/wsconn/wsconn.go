// Package wsconn is sockio's WebSocket codec (RFC 6455, with
// permessage-deflate of RFC 7692): server and client handshakes, frame
// reading and writing, compression with compress/flate.
//
// Everything above it (engineio, ws, the Go client) speaks to this package
// only. It exposes the few operations those layers need: accept, dial, read
// a message (whole, or as a stream), write a message from two parts (so a
// type prefix needs no copy), batches of messages in one system call,
// prepared messages for broadcasts, and close with a code.
package wsconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/sockio/sockio/internal/netpoll"
)

// MessageType is the type of a data message.
type MessageType int

// The data message types of RFC 6455.
const (
	Text   MessageType = 1
	Binary MessageType = 2
)

// Close codes (RFC 6455 section 7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	// CloseNoStatus, given to Close, sends a close frame without a status
	// code: the peer sees 1005, as with the reference server's ws.close().
	CloseNoStatus       = 1005
	CloseAbnormal       = 1006
	CloseInvalidPayload = 1007
	ClosePolicy         = 1008
	CloseTooBig         = 1009
	CloseMandatoryExt   = 1010
	CloseInternal       = 1011
)

// ErrMessageTooBig is returned by Read when a message exceeds the read limit
// (for a compressed message: its inflated size).
var ErrMessageTooBig = errors.New("websocket message too big")

// ErrProtocol marks a read that failed because the peer broke RFC 6455 or
// RFC 7692. The close frame 1002 is already sent.
var ErrProtocol = errors.New("websocket protocol error")

// ErrInvalidPayload marks a read that failed because a compressed message
// could not be inflated; the close frame 1007 is already sent.
var ErrInvalidPayload = errors.New("websocket invalid frame payload data")

// ErrCloseSent is returned by writes after a close frame was sent.
var ErrCloseSent = errors.New("websocket: close sent")

// PeerCloseError is returned by reads after the peer sent a close frame.
// Code is CloseNoStatus when the frame had no body.
type PeerCloseError struct {
	Code   int
	Reason string
}

func (e *PeerCloseError) Error() string {
	return fmt.Sprintf("websocket closed by peer: %d %q", e.Code, e.Reason)
}

// AcceptOptions configure Accept.
type AcceptOptions struct {
	// ReadLimit bounds one message in bytes (a compressed one once
	// inflated); 0 means no limit for streams and 2 GiB for whole messages.
	ReadLimit int64
	// Compression negotiates permessage-deflate when the client offers it.
	Compression bool
	// CompressionThreshold is the smallest message that is compressed.
	CompressionThreshold int
	// ContextTakeover keeps the deflate context from message to message on
	// both sides when the client allows it: better ratios on similar
	// messages, for some 1.2 MB of compressor (compress/flate's, Go 1.26)
	// and 32 KiB of window per connection. Without it the server asks for
	// no context takeover both ways and borrows its compressors from a pool.
	ContextTakeover bool
	// CheckOrigin reports whether the request's Origin is acceptable; nil accepts all,
	// as Engine.IO leaves origin policy to CORS and allowRequest.
	CheckOrigin func(r *http.Request) bool
	// Subprotocols the server supports, in order of preference.
	Subprotocols []string
	// Header is added to the handshake response (cookies, for example).
	Header http.Header
	// WriteBufferSize is the largest frame NextWriter cuts a message into;
	// 0 picks 4096.
	WriteBufferSize int
	// Greeting, when set, is the connection's first text message; it goes
	// out in the same write as the handshake response, which saves a
	// system call (and a wake-up of the peer) per connection.
	Greeting []byte
}

// Conn is one WebSocket connection, server or client side. One goroutine
// may read and one may write at a time; control frames (Ping, WriteClose,
// Close) may be written from any goroutine.
type Conn struct {
	client      bool // this end is the client: it masks what it sends
	subprotocol string
	nc          net.Conn
	rc          syscall.RawConn // nil if nc is not a plain socket (TLS)
	rr          *frameReader
	fragment    int      // the largest frame NextWriter writes
	defl        *deflate // nil: permessage-deflate not negotiated
	threshold   int      // the smallest message compressed

	onPing, onPong func() // called by the reader

	wmu       sync.Mutex
	closeSent bool          // under wmu: nothing may follow a close frame
	deadline  time.Time     // under wmu: the write deadline last set
	keys      *rand.ChaCha8 // under wmu: masking keys (client side)

	pmu    sync.Mutex     // guards watch and closed
	watch  *netpoll.Watch // see Watch
	closed bool           // Close or CloseNow was called
}

// newConn sets up a connection over nc once its handshake is done.
func newConn(nc net.Conn, client bool, subprotocol string, limit int64, fragment int) *Conn {
	c := &Conn{client: client, subprotocol: subprotocol, nc: nc, rc: rawConn(nc), fragment: orDefault(fragment, 4096)}
	c.rr = &frameReader{c: c, rc: c.rc, limit: limit}
	if client {
		c.keys = newKeySource()
	}
	return c
}

// IsUpgrade reports whether r asks for a WebSocket upgrade.
func IsUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

// Read reads the next data message, whole. Control frames are handled
// inside: a ping is answered, a close echoed. Text is checked as UTF-8
// (close 1007 if not), compressed messages are inflated.
func (c *Conn) Read() (MessageType, []byte, error) {
	return c.rr.Read()
}

// Write writes one message made of head followed by body (either may be
// empty), so a one-byte type prefix needs no copy of the body. compress
// allows compression when it was negotiated and the message is above the
// threshold.
func (c *Conn) Write(typ MessageType, head, body []byte, compress bool) error {
	return c.WriteFrames([]Frame{{Type: typ, Head: head, Body: body, NoCompress: !compress}}, time.Time{})
}

// SetWriteDeadline bounds the next writes; a peer that does not read is cut off.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.deadline = t
	return c.nc.SetWriteDeadline(t)
}

// SetReadDeadline bounds the next reads.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.nc.SetReadDeadline(t)
}

// SetReadLimit bounds one message in bytes (a compressed one once
// inflated); 0 means no limit. Past it the peer is sent close 1009.
func (c *Conn) SetReadLimit(n int64) { c.rr.limit = n }

// Close sends a close frame with code and reason (best effort, bounded by a
// short deadline) and closes the connection.
func (c *Conn) Close(code int, reason string) error {
	c.markClosed()
	// A writer stuck on a peer that does not read holds the lock: then
	// there is no point in a close frame, and waiting would stall the
	// caller (often a broadcast) for the whole write timeout.
	if c.wmu.TryLock() {
		_ = c.writeControlLocked(opClose, closeBody(code, reason), time.Now().Add(time.Second))
		c.wmu.Unlock()
	}
	return c.nc.Close()
}

// CloseNow closes the connection without a close frame.
func (c *Conn) CloseNow() error {
	c.markClosed()
	return c.nc.Close()
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr is this end's address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Subprotocol is the negotiated subprotocol, if any.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.defl != nil }

// CloseCode returns the close code carried by err when the peer closed the
// connection with a close frame, and -1 otherwise.
func CloseCode(err error) int {
	var ce *PeerCloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// closeBody is a close frame's payload: the code and reason, or nothing
// for CloseNoStatus (RFC 6455 5.5.1). The reason is cut to fit 125 bytes.
func closeBody(code int, reason string) []byte {
	if code == CloseNoStatus {
		return nil
	}
	if len(reason) > 123 {
		reason = reason[:123]
	}
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return append(b, reason...)
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}
