package ws

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sockio/sockio/internal/wsconn"
)

// DialOptions configure Dial. The zero value gives the defaults of
// ConnOptions.
type DialOptions struct {
	// Handlers receive the connection's events; OnOpen runs before the
	// first message, on the connection's reading goroutine.
	Handlers
	// ConnOptions set limits, timeouts, heartbeat and compression. The
	// heartbeat is on by default, so a dead server is noticed.
	ConnOptions
	// Header is sent with the handshake request (Origin, cookies, auth).
	Header http.Header
	// Subprotocols are offered to the server, in order of preference.
	Subprotocols []string
}

// Dial opens a WebSocket connection to rawURL (ws:// or wss://; no proxy
// is used). ctx bounds the handshake only. The returned Conn has the same
// API as a server's; its messages reach opts' handlers.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("failed to parse URL: %w", err)
	}
	s := opts.ConnOptions.settings(opts.Handlers)
	wc, resp, err := wsconn.Dial(ctx, rawURL, wsconn.DialOptions{
		Header:               opts.Header,
		Subprotocols:         opts.Subprotocols,
		Compression:          s.compress,
		CompressionThreshold: s.threshold,
		WriteBufferSize:      s.fragment,
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, err
	}
	c := newConn(wc, s)
	c.client = true
	c.path = u.Path
	c.header = resp.Header
	go c.serve()
	return c, nil
}
