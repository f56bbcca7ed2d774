package wsconn

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/websocket"
)

// ClientOptions configure DialClient: DialOptions plus the settings of an
// HTTP client, so that a WebSocket reaches the server the same way the
// client's HTTP requests do (the Go client's polling and WebSocket
// transports share one session, cookies included).
type ClientOptions struct {
	DialOptions
	// Jar supplies the handshake's cookies and keeps those its response
	// sets (sticky sessions behind a load balancer rely on it).
	Jar http.CookieJar
	// Proxy returns the proxy for a request (http or https scheme, as for
	// http.Transport); nil or a nil URL dials directly.
	Proxy func(*http.Request) (*url.URL, error)
	// TLSClientConfig is used for wss:// URLs; nil takes the defaults.
	TLSClientConfig *tls.Config
	// NetDialContext opens the TCP connection; nil uses a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DialClient opens a client connection to urlStr (ws:// or wss://) with
// an HTTP client's settings. The context bounds the handshake only. On a
// refused handshake the response is returned with the error; its body
// holds the first KiB the server sent (for the error it carries) and needs
// no Close. Strict applies only to ws:// without a proxy: the guard
// expects the handshake response first on the stream, which a proxy's
// CONNECT answer would precede.
func DialClient(ctx context.Context, urlStr string, opts ClientOptions) (*Conn, *http.Response, error) {
	size := orDefault(opts.WriteBufferSize, 4096)
	d := websocket.Dialer{
		ReadBufferSize:    1024,
		WriteBufferSize:   size,
		WriteBufferPool:   poolFor(size),
		Subprotocols:      opts.Subprotocols,
		EnableCompression: opts.Compression,
		Jar:               opts.Jar,
		Proxy:             opts.Proxy,
		TLSClientConfig:   opts.TLSClientConfig,
		NetDialContext:    opts.NetDialContext,
	}
	if opts.Strict && opts.Proxy == nil && strings.HasPrefix(strings.ToLower(urlStr), "ws:") {
		dial := opts.NetDialContext
		if dial == nil {
			var nd net.Dialer
			dial = nd.DialContext
		}
		d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &frameGuard{Conn: c, skipHTTP: true}, nil
		}
	}
	c, resp, err := d.DialContext(ctx, urlStr, opts.Header)
	if err != nil {
		return nil, resp, fmt.Errorf("failed to dial %s: %w", redactQuery(urlStr), err)
	}
	if opts.ReadLimit > 0 {
		c.SetReadLimit(opts.ReadLimit)
	}
	return &Conn{c: c, threshold: opts.CompressionThreshold, compress: opts.Compression}, resp, nil
}

// redactQuery drops the query from an URL put in an error: it may carry
// tokens (Socket.IO clients pass auth in the query).
func redactQuery(urlStr string) string {
	if i := strings.IndexByte(urlStr, '?'); i >= 0 {
		return urlStr[:i]
	}
	return urlStr
}
