package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sockio/sockio/client/internal/engine"
	"github.com/sockio/sockio/parser"
)

// Transport names for Options.Transports.
const (
	Polling      = "polling"
	WebSocket    = "websocket"
	WebTransport = "webtransport" // needs Options.WebTransport
)

// Options configure a Manager and, for Connect and New, the socket they
// create. The zero value gives the reference client's defaults.
type Options struct {
	// Path is the server's Socket.IO path (default "/socket.io/").
	Path string
	// Transports lists the transports to use, in order: the first one
	// connects, and a polling connection upgrades to websocket when both
	// are listed and the server offers it. Default polling then websocket;
	// {"websocket"} or {"polling"} forces one. "webtransport" needs
	// Options.WebTransport; a polling connection upgrades to the first of
	// the listed transports that the server offers and that answers.
	Transports []string
	// WebTransport opens the sessions of the "webtransport" transport
	// (HTTP/3): a *webtransport.Dialer of package client/webtransport, so
	// that programs that do not use it do not link QUIC.
	WebTransport WebTransportDialer
	// DisableUpgrade stays on the first transport.
	DisableUpgrade bool
	// Query is sent with every request; the query of the URL given to
	// Connect, New or NewManager is added to it.
	Query url.Values
	// Header is sent with every HTTP request and the WebSocket handshake.
	Header http.Header
	// HTTPClient sends the polling requests; its Jar, and the TLS, proxy
	// and dial settings of an *http.Transport, also serve the WebSocket
	// handshake. Default: a client of the manager's own, whose idle
	// connections are closed with the manager. A client Timeout must
	// exceed the server's pingInterval: a long poll lasts that long.
	HTTPClient *http.Client

	// DisableReconnection turns automatic reconnection off.
	DisableReconnection bool
	// ReconnectionAttempts limits the attempts of one reconnection run
	// (0: no limit). When they are used up the manager emits
	// "reconnect_failed" and stops.
	ReconnectionAttempts int
	// ReconnectionDelay is the first delay (default 1s); it doubles on each
	// attempt up to ReconnectionDelayMax (default 5s).
	ReconnectionDelay    time.Duration
	ReconnectionDelayMax time.Duration
	// RandomizationFactor spreads each delay by up to ±factor (default
	// 0.5). A negative value means no randomization.
	RandomizationFactor float64
	// Timeout bounds each connection attempt: the Engine.IO handshake
	// (default 20s).
	Timeout time.Duration

	// MaxAttachments bounds the binary attachments of one packet from the
	// server (default 10); a packet with more closes the connection.
	MaxAttachments int
	// MaxMessageSize bounds one message (and one polling response) from the
	// server, in bytes (default 64 MiB).
	MaxMessageSize int64
	// MaxBufferedPackets and MaxBufferedBytes bound the connection's send
	// queue (defaults 8192 packets, 16 MiB); an emit past them fails with
	// ErrQueueFull.
	MaxBufferedPackets int
	MaxBufferedBytes   int
	// Parser is the packet format (the reference client's "parser"
	// option): nil is parser.Default; parser.Msgpack talks to servers that
	// use socket.io-msgpack-parser. It must be the server's.
	// MaxAttachments applies to the default format only (msgpack carries
	// binary values inline, without a limit on their number).
	Parser parser.Codec

	// Auth, AuthFunc, AckTimeout and MaxBufferedEmits configure the socket
	// created by Connect and New; see SocketOptions.
	Auth             any
	AuthFunc         func(ctx context.Context) (any, error)
	AckTimeout       time.Duration
	MaxBufferedEmits int
}

// WebTransportDialer opens a WebTransport session to url (https, the
// Engine.IO path and query), sending header with the CONNECT request, and
// returns the session's first bidirectional stream, on which the Engine.IO
// packets go. Package client/webtransport implements it.
type WebTransportDialer interface {
	DialWebTransport(ctx context.Context, url string, header http.Header) (WebTransportStream, error)
}

// WebTransportStream is the stream of a WebTransport session that carries
// the Engine.IO packets.
type WebTransportStream interface {
	io.Reader
	io.Writer
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	// Close ends the write side (FIN), so that what was written still
	// arrives, then the session: when the server ends it or after a short
	// linger. It must not block.
	Close() error
}

// webTransportDial adapts Options.WebTransport to the engine.
func (o *Options) webTransportDial() engine.WebTransportDialFunc {
	d := o.WebTransport
	if d == nil {
		return nil
	}
	return func(ctx context.Context, url string, header http.Header) (engine.WebTransportStream, error) {
		st, err := d.DialWebTransport(ctx, url, header)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
}

// SocketOptions configure one namespace's Socket.
type SocketOptions struct {
	// Auth is the CONNECT payload the server's middlewares see as
	// handshake.auth: anything that encodes to a JSON object (or nil).
	Auth any
	// AuthFunc, when set, is called before every CONNECT (the first and
	// each reconnection) and its result is sent as Auth. ctx ends when the
	// connection closes. An error refuses the connection locally: the
	// socket gets "connect_error" with it and stops, as for a refusal by
	// the server.
	AuthFunc func(ctx context.Context) (any, error)
	// AckTimeout is the acknowledgement timeout of emits that set none
	// (default: none).
	AckTimeout time.Duration
	// MaxBufferedEmits bounds the emits kept while disconnected (default
	// 1024); past it Emit fails with ErrBufferFull.
	MaxBufferedEmits int
}

func (o *Options) socketOptions() SocketOptions {
	return SocketOptions{Auth: o.Auth, AuthFunc: o.AuthFunc, AckTimeout: o.AckTimeout, MaxBufferedEmits: o.MaxBufferedEmits}
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = "/socket.io/"
	}
	if o.Path[0] != '/' {
		o.Path = "/" + o.Path
	}
	if o.Path[len(o.Path)-1] != '/' {
		o.Path += "/"
	}
	if o.ReconnectionDelay <= 0 {
		o.ReconnectionDelay = time.Second
	}
	if o.ReconnectionDelayMax <= 0 {
		o.ReconnectionDelayMax = 5 * time.Second
	}
	if o.ReconnectionDelayMax < o.ReconnectionDelay {
		o.ReconnectionDelayMax = o.ReconnectionDelay
	}
	switch {
	case o.RandomizationFactor == 0:
		o.RandomizationFactor = 0.5
	case o.RandomizationFactor < 0:
		o.RandomizationFactor = 0
	case o.RandomizationFactor > 1:
		o.RandomizationFactor = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	return o
}

func (o SocketOptions) withDefaults() SocketOptions {
	if o.MaxBufferedEmits <= 0 {
		o.MaxBufferedEmits = 1024
	}
	return o
}
