package engineio

import (
	"net/http"
	"time"
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
}

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
