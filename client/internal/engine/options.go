package engine

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Transport names, as in the transport query parameter.
const (
	Polling      = "polling"
	WebSocket    = "websocket"
	WebTransport = "webtransport"
)

// Options configure Dial. Zero values take the defaults shown.
type Options struct {
	// URL is the server's Engine.IO endpoint: scheme http or https, host,
	// and the path ("/socket.io/"). Its query is ignored; use Query.
	URL *url.URL
	// Query is added to every request (after EIO, transport and sid are set).
	Query url.Values
	// Header is added to every request: polling GETs and POSTs and the
	// WebSocket handshake.
	Header http.Header
	// Transports lists the transports to use, the first one to connect
	// (default polling then websocket).
	Transports []string
	// DialWebTransport opens WebTransport sessions; the "webtransport"
	// transport needs it.
	DialWebTransport WebTransportDialFunc
	// DisableUpgrade stays on the first transport.
	DisableUpgrade bool
	// HTTPClient sends the polling requests; its Jar, and the TLS, proxy
	// and dial settings of an *http.Transport, also serve the WebSocket
	// handshake. Default: a client of its own.
	HTTPClient *http.Client
	// MaxMessageSize bounds one WebSocket message, one WebTransport frame
	// and one polling response body, in bytes (default 64 MiB).
	MaxMessageSize int64
	// MaxBufferedPackets and MaxBufferedBytes bound the send queue
	// (defaults 8192 packets, 16 MiB): Send fails with ErrQueueFull past them.
	MaxBufferedPackets int
	MaxBufferedBytes   int
	// WriteTimeout bounds one POST or one WebSocket write (default 20s).
	WriteTimeout time.Duration
	// UpgradeTimeout bounds the probe and the pause of an upgrade (default 10s).
	UpgradeTimeout time.Duration
	// CloseTimeout bounds the flush of queued packets on Close (default 2s).
	CloseTimeout time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.URL == nil {
		return o, fmt.Errorf("engine.io: no URL")
	}
	if o.URL.Scheme != "http" && o.URL.Scheme != "https" {
		return o, fmt.Errorf("engine.io: URL scheme %q, want http or https", o.URL.Scheme)
	}
	if len(o.Transports) == 0 {
		o.Transports = []string{Polling, WebSocket}
	}
	for _, t := range o.Transports {
		if t != Polling && t != WebSocket && t != WebTransport {
			return o, fmt.Errorf("engine.io: unknown transport %q", t)
		}
		if t == WebTransport && o.DialWebTransport == nil {
			return o, fmt.Errorf("engine.io: transport %q needs a WebTransport dialer", t)
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 64 << 20
	}
	if o.MaxBufferedPackets <= 0 {
		o.MaxBufferedPackets = 8192
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 16 << 20
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 20 * time.Second
	}
	if o.UpgradeTimeout <= 0 {
		o.UpgradeTimeout = 10 * time.Second
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 2 * time.Second
	}
	return o, nil
}
