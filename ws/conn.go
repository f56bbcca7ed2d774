package ws

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio/internal/wsconn"
)

// MessageType is the type of a data message.
type MessageType int

// The data message types of RFC 6455.
const (
	Text   MessageType = MessageType(wsconn.Text)
	Binary MessageType = MessageType(wsconn.Binary)
)

func (t MessageType) String() string {
	switch t {
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return "unknown"
}

// ReadyState is the state of a connection, numbered as in the browser's
// WebSocket.readyState.
type ReadyState int32

// The states of a connection.
const (
	Connecting ReadyState = iota // handshake not done (a Reconnecting client between connections)
	Open                         // messages flow both ways
	Closing                      // a close frame was sent or received
	Closed                       // the TCP connection is closed
)

func (s ReadyState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Open:
		return "open"
	case Closing:
		return "closing"
	case Closed:
		return "closed"
	}
	return "unknown"
}

// Conn is one WebSocket connection, on the server side (given to the
// Server's handlers) or the client side (returned by Dial). All its methods
// may be called from any goroutine.
type Conn struct {
	wc     *wsconn.Conn
	s      *settings
	srv    *Server // nil on the client side
	client bool

	path        string
	header      http.Header
	remote      net.Addr
	subprotocol string

	state atomic.Int32
	data  atomic.Pointer[any]

	mu         sync.Mutex // guards the fields below
	queue      []outgoing
	queuedB    int
	writing    bool        // a writer goroutine is draining the queue
	closeOut   *outgoing   // our close frame, sent once the queue drains
	closeTimer *time.Timer // forces the TCP close if the close handshake stalls
	endSet     bool
	endCode    int
	endReason  string
	endErr     error
	hb         *time.Timer
	awaiting   bool // a ping is out and its pong deadline armed

	alive     atomic.Bool // something arrived since the last ping
	inHandler atomic.Bool // a handler runs: the peer cannot be blamed for silence
	broken    atomic.Bool // the peer broke the protocol mid-stream: send nothing more

	gone chan struct{} // closed when the TCP connection is closed
	done chan struct{} // closed after OnClose returned
}

func newConn(wc *wsconn.Conn, s *settings) *Conn {
	c := &Conn{
		wc:          wc,
		s:           s,
		remote:      wc.RemoteAddr(),
		subprotocol: wc.Subprotocol(),
		gone:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	c.state.Store(int32(Open))
	return c
}

// Path is the path of the handshake request (the URL path dialed, on the
// client side).
func (c *Conn) Path() string { return c.path }

// Headers are the headers of the handshake request on the server side, and
// of the handshake response on the client side. Do not modify them.
func (c *Conn) Headers() http.Header { return c.header }

// RemoteAddr is the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// Subprotocol is the negotiated subprotocol; empty when none was.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// ReadyState reports the connection's state.
func (c *Conn) ReadyState() ReadyState { return ReadyState(c.state.Load()) }

// Data returns the value stored with SetData, or nil.
func (c *Conn) Data() any {
	if p := c.data.Load(); p != nil {
		return *p
	}
	return nil
}

// SetData stores an application value with the connection (a user, a
// room), for handlers to find.
func (c *Conn) SetData(v any) { c.data.Store(&v) }

// Done is closed when the connection has ended and OnClose has returned.
func (c *Conn) Done() <-chan struct{} { return c.done }

// touch records that the peer showed life, for the heartbeat and ReadTimeout.
func (c *Conn) touch() {
	c.alive.Store(true)
	if c.s.readWait > 0 {
		_ = c.wc.SetReadDeadline(time.Now().Add(c.s.readWait))
	}
}
