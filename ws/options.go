package ws

import (
	"io"
	"time"
)

// Handlers are the event callbacks of a connection. Any may be nil. They
// run on the connection's reading goroutine, one at a time and in arrival
// order, so a handler that blocks delays the next message of the same
// connection (and pushes back on the peer through TCP); heartbeat
// deadlines are not enforced while a handler runs.
type Handlers struct {
	// OnOpen is called once the handshake is done, before the first message.
	OnOpen func(c *Conn)
	// OnText is called with each text message, already checked to be valid
	// UTF-8. The handler owns text.
	OnText func(c *Conn, text []byte)
	// OnBinary is called with each binary message. The handler owns data.
	OnBinary func(c *Conn, data []byte)
	// OnBinaryStream, when set, receives binary messages as they arrive
	// instead of OnBinary: r yields the payload frame by frame and reports
	// io.EOF at the end of the message. r is valid only during the call;
	// what the handler leaves unread is discarded. MaxStreamSize bounds it.
	OnBinaryStream func(c *Conn, r io.Reader)
	// OnClose is called once when the connection has ended, with the close
	// code and reason that ended it: the peer's, the one given to Close, or
	// CloseAbnormal when the TCP connection was lost without a close frame.
	OnClose func(c *Conn, code int, reason string)
	// OnError reports what went wrong before a close the application did
	// not ask for: a protocol violation, a lost connection, a full send
	// queue, a missed heartbeat. On a server, c is nil for a refused
	// handshake.
	OnError func(c *Conn, err error)
}

// ConnOptions are the settings shared by server and client connections. The
// zero value gives the documented defaults.
type ConnOptions struct {
	// MaxMessageSize bounds a text message and a binary message read whole,
	// in bytes after decompression. 0 means 2 MiB; past it the connection
	// is closed with 1009.
	MaxMessageSize int64
	// MaxStreamSize bounds a binary message read with OnBinaryStream. 0
	// means no limit: a stream is never held in memory; set one if the
	// handler keeps what it reads.
	MaxStreamSize int64
	// FragmentSize is the largest frame a streamed message (Conn.Writer) is
	// cut into. 0 means 512 KiB; values below 16 KiB are raised to 16 KiB.
	FragmentSize int

	// MaxQueuedMessages and MaxQueuedBytes bound the send queue of one
	// connection (0 means 1024 messages and 4 MiB). A single message larger
	// than MaxQueuedBytes is accepted into an empty queue. A send that
	// would pass a bound closes the connection with 1008 ("send queue
	// full") instead of letting a slow peer grow memory.
	MaxQueuedMessages int
	MaxQueuedBytes    int

	// WriteTimeout bounds the writing of one message (or one fragment of a
	// stream) to the network; 0 means 10 s. A peer that does not read for
	// that long is disconnected (CloseAbnormal, "write timeout").
	WriteTimeout time.Duration
	// ReadTimeout is the longest the peer may stay silent (no frame of any
	// kind); 0 means no limit, as the heartbeat already finds dead peers.
	ReadTimeout time.Duration

	// PingInterval is the time between heartbeat pings; 0 means 30 s and a
	// negative value turns the heartbeat off. A peer that sends nothing,
	// pong included, within PongTimeout of a ping is closed with 1011
	// ("pong timeout"). PongTimeout 0 means 10 s, capped at PingInterval.
	PingInterval time.Duration
	PongTimeout  time.Duration

	// Compression negotiates permessage-deflate (RFC 7692, no context
	// takeover) when the peer offers it (server) or offers it (client).
	// Messages smaller than CompressionThreshold (0 means 1024 bytes) are
	// sent uncompressed.
	Compression          bool
	CompressionThreshold int
}

// Defaults of ConnOptions.
const (
	DefaultMaxMessageSize    = 2 << 20
	DefaultFragmentSize      = 512 << 10
	DefaultMaxQueuedMessages = 1024
	DefaultMaxQueuedBytes    = 4 << 20
	DefaultWriteTimeout      = 10 * time.Second
	DefaultPingInterval      = 30 * time.Second
	DefaultPongTimeout       = 10 * time.Second
	DefaultCompressThreshold = 1024

	minFragmentSize = 16 << 10
	// closeTimeout bounds the wait for the peer's reply to our close frame.
	closeTimeout = 5 * time.Second
)

// settings are ConnOptions with defaults filled in, shared by the
// connections of one server or dial.
type settings struct {
	Handlers
	maxMessage, maxStream  int64
	fragment               int
	maxQueued, maxQueuedB  int
	writeTimeout, readWait time.Duration
	pingInterval, pongWait time.Duration
	compress               bool
	threshold              int
}

func (o ConnOptions) settings(h Handlers) *settings {
	s := &settings{
		Handlers:     h,
		maxMessage:   or64(o.MaxMessageSize, DefaultMaxMessageSize),
		maxStream:    o.MaxStreamSize,
		fragment:     orInt(o.FragmentSize, DefaultFragmentSize),
		maxQueued:    orInt(o.MaxQueuedMessages, DefaultMaxQueuedMessages),
		maxQueuedB:   orInt(o.MaxQueuedBytes, DefaultMaxQueuedBytes),
		writeTimeout: orDur(o.WriteTimeout, DefaultWriteTimeout),
		readWait:     o.ReadTimeout,
		pingInterval: orDur(o.PingInterval, DefaultPingInterval),
		pongWait:     orDur(max(o.PongTimeout, 0), DefaultPongTimeout),
		compress:     o.Compression,
		threshold:    orInt(o.CompressionThreshold, DefaultCompressThreshold),
	}
	if s.fragment < minFragmentSize {
		s.fragment = minFragmentSize
	}
	if s.pingInterval > 0 && s.pongWait > s.pingInterval {
		s.pongWait = s.pingInterval
	}
	if s.readWait < 0 {
		s.readWait = 0
	}
	return s
}

// wireLimit is the read limit given to internal/wsconn, which checks it as
// frame headers arrive (before any payload is buffered) and, for a
// compressed message, on its inflated size; 0 is no limit. The exact
// limits (text and stream apart) are applied while reading.
func (s *settings) wireLimit() int64 {
	if s.OnBinaryStream != nil && s.maxStream <= 0 {
		return 0
	}
	if s.OnBinaryStream != nil && s.maxStream > s.maxMessage {
		return s.maxStream
	}
	return s.maxMessage
}

func or64(v, d int64) int64 {
	if v > 0 {
		return v
	}
	return d
}

func orInt(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

func orDur(v, d time.Duration) time.Duration {
	if v != 0 {
		return v
	}
	return d
}
