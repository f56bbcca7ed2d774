package engineio

import (
	"net/http"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

// Transport names, as they appear in the transport query parameter.
const (
	Polling   = "polling"
	WebSocket = "websocket"
)

// Options configure a Server. The zero value gives the reference defaults.
type Options struct {
	// PingInterval is the time between two server pings (default 25s).
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong (default 20s).
	PingTimeout time.Duration
	// UpgradeTimeout bounds the polling → websocket upgrade (default 10s).
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize bounds one WebSocket message and one polling POST
	// body, in bytes (default 1e6).
	MaxHTTPBufferSize int64
	// Transports lists the allowed transports (default polling and websocket).
	Transports []string
	// DisableUpgrades forbids the polling → websocket upgrade.
	DisableUpgrades bool
	// Cookie, when set, is sent on the handshake with the session id as value.
	Cookie *Cookie
	// CORS, when set, answers preflight requests and adds CORS headers.
	CORS *CORS
	// AllowRequest can refuse a handshake or upgrade; its error message is
	// sent to the client with HTTP 403 (code 4, "Forbidden").
	AllowRequest func(r *http.Request) error
	// PerMessageDeflate, when set, negotiates WebSocket compression.
	PerMessageDeflate *PerMessageDeflate
	// MaxBufferedPackets and MaxBufferedBytes bound a session's send queue
	// (defaults 8192 packets, 16 MiB). A full queue drops volatile packets and
	// closes the session with reason "slow consumer".
	MaxBufferedPackets int
	MaxBufferedBytes   int
	// WriteTimeout bounds one WebSocket write (default 10s).
	WriteTimeout time.Duration

	// MaxHeaderBytes bounds a request's head: its request line and header
	// fields, counted as sent over HTTP/1.1 (default 16 KiB, the limit of
	// Node.js's HTTP server, so what the reference accepts is accepted
	// here). A larger head is refused with 431, as Node.js does, whatever
	// the http.Server's own MaxHeaderBytes (1 MB by default). It also
	// bounds what a session keeps of its handshake's headers (see
	// Handshake.Header).
	MaxHeaderBytes int
	// MaxURLBytes bounds a request's target, path and query (default
	// 8 KiB, the request-line limit of nginx and Apache). A longer one is
	// refused with 414. It also bounds what a session keeps of its
	// handshake's query (see Handshake.Query).
	MaxURLBytes int
	// PostTimeout bounds the read of one polling POST body, from the time
	// its head was read (default PingInterval + PingTimeout: a client
	// cannot answer a ping while its one POST is pending, so a slower POST
	// outlives its session anyway). A body not read in time closes the
	// session (ErrPostTimeout) and the connection. An http.Server whose
	// ReadTimeout is shorter keeps it. The read also ends when the session
	// does. The deadline needs a ResponseWriter that supports
	// http.ResponseController (net/http's do, and middleware with Unwrap).
	PostTimeout time.Duration
	// AllowedOrigins lists the browser origins that may use the server:
	// handshakes, websocket upgrades and polling requests whose Origin
	// header is not allowed are refused with 403 (code 4, "Forbidden").
	// Entries are "https://app.example.com" (that origin exactly),
	// "app.example.com" (that host over http or https), "*.example.com" or
	// "https://*.example.com" (any subdomain), "null" (the opaque origin of
	// sandboxed frames and file: pages) or "*" (any origin). A request whose
	// Origin names the host it was sent to (its Host header) is always
	// allowed, so SameOrigin alone allows same-origin pages only. Requests
	// without an Origin header (Go, Node.js and other non-browser clients)
	// are allowed: the check protects browser users from other sites'
	// pages, a non-browser client can send any Origin it likes. Behind a
	// proxy that rewrites the Host header, list the public origin.
	//
	// Empty allows every origin, as the reference does. When CORS is nil,
	// AllowedOrigins also answers CORS: the listed origins are reflected
	// with credentials ("*" answers "*", without credentials); same-origin
	// pages need no CORS.
	AllowedOrigins []string

	// InitialHeaders, when set, may change the response headers of a
	// handshake: the first polling response or the websocket's 101, as the
	// reference's "initial_headers" event. h already holds what the server
	// sets (Set-Cookie of Cookie, Content-Type, ...); r is the request.
	InitialHeaders func(h http.Header, r *http.Request)
	// Headers, when set, may change the response headers of every
	// successful polling response (GET and POST, the handshake included,
	// after InitialHeaders) and of every websocket 101, the handshake's and
	// the upgrade's, as the reference's "headers" event. Error answers
	// (400, 403, ...) do not run it, as with the reference.
	Headers func(h http.Header, r *http.Request)

	// AllowEIO3 also serves clients of Engine.IO protocol 3
	// (socket.io-client 2.x, which sends EIO=3), as the reference's
	// allowEIO3 does: their heartbeat (the client pings), payload encodings
	// (length-prefixed text, the binary form, JSONP) and websocket frames
	// (see eio3.go). Off by default: such a handshake is refused (400,
	// "Unsupported protocol version"), as the reference refuses it.
	// Session.Protocol tells the two apart.
	AllowEIO3 bool

	// Forwarding, when set, passes requests for sessions that another node
	// of the cluster holds to that node, so that the cluster needs no
	// sticky sessions (see Forwarding). Off by default: a request for a
	// session this node does not hold is refused (400, "Session ID
	// unknown"), as the reference does.
	Forwarding *Forwarding

	// upgradeCheck is the period of the upgrade's noop check (see
	// Session.upgradeCheck); zero means the reference's 100ms. Tests only.
	upgradeCheck time.Duration
	// hooks are test seams; nil outside tests.
	hooks *testHooks
}

// testHooks let tests hold a request at a chosen point, to force an order
// that scheduling would only give sometimes.
type testHooks struct {
	upgradeRead   func(*Session)      // the upgrade is about to read a packet
	upgradePacket func(packet.Packet) // the upgrade read p, before handling it
	pollParked    func(*Session)      // a GET waits for something to send
	probed        func(*Session)      // the probe was answered
	postDelivered func(*Session)      // a POST delivered its packets, not answered yet
}

// SameOrigin, as the only entry of AllowedOrigins, allows same-origin
// browser requests and no other origin (requests without an Origin header
// stay allowed).
const SameOrigin = "'self'"

// Cookie configures the session cookie (the reference's cookie option).
type Cookie struct {
	Name     string // default "io"
	Path     string // default "/"
	HTTPOnly bool
	SameSite http.SameSite // default Lax
	Secure   bool
	MaxAge   int
}

// PerMessageDeflate configures WebSocket compression (RFC 7692).
type PerMessageDeflate struct {
	// Threshold is the smallest message compressed, in bytes (default 1024).
	Threshold int
}

func (o Options) withDefaults() Options {
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.UpgradeTimeout <= 0 {
		o.UpgradeTimeout = 10 * time.Second
	}
	if o.MaxHTTPBufferSize <= 0 {
		o.MaxHTTPBufferSize = 1e6
	}
	if len(o.Transports) == 0 {
		o.Transports = []string{Polling, WebSocket}
	}
	if o.MaxBufferedPackets <= 0 {
		o.MaxBufferedPackets = 8192
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 16 << 20
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 16 << 10
	}
	if o.MaxURLBytes <= 0 {
		o.MaxURLBytes = 8 << 10
	}
	if o.PostTimeout <= 0 {
		o.PostTimeout = o.PingInterval + o.PingTimeout
	}
	if o.upgradeCheck <= 0 {
		o.upgradeCheck = 100 * time.Millisecond
	}
	if o.PerMessageDeflate != nil && o.PerMessageDeflate.Threshold <= 0 {
		d := *o.PerMessageDeflate
		d.Threshold = 1024
		o.PerMessageDeflate = &d
	}
	return o
}

func (o *Options) allows(transport string) bool {
	for _, t := range o.Transports {
		if t == transport {
			return true
		}
	}
	return false
}
