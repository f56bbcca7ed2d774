package wsconn

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
)

// DialOptions configure Dial.
type DialOptions struct {
	// Header is sent with the handshake request (Origin, cookies, auth).
	Header http.Header
	// Subprotocols offered, in order of preference.
	Subprotocols []string
	// Compression offers permessage-deflate.
	Compression bool
	// CompressionThreshold is the smallest message that is compressed.
	CompressionThreshold int
	// ReadLimit bounds one message in bytes; 0 means no limit.
	ReadLimit int64
	// WriteBufferSize is the largest frame a message is cut into (a client
	// masks through this buffer); 0 picks 4096. Buffers are pooled per size.
	WriteBufferSize int
	// Strict adds the frame checks gorilla/websocket skips (see frameGuard)
	// on ws:// URLs.
	Strict bool
}

// Dial opens a client connection to urlStr (ws:// or wss://), without a
// proxy. The context
// bounds the handshake only. On a refused handshake the response is
// returned with the error (its body already closed).
func Dial(ctx context.Context, urlStr string, opts DialOptions) (*Conn, *http.Response, error) {
	size := orDefault(opts.WriteBufferSize, 4096)
	d := websocket.Dialer{
		ReadBufferSize:    1024,
		WriteBufferSize:   size,
		WriteBufferPool:   poolFor(size),
		Subprotocols:      opts.Subprotocols,
		EnableCompression: opts.Compression,
	}
	// The guard reads the raw stream, so only plain ws:// (no TLS below it);
	// no proxy is used, so the stream starts with the handshake response.
	if opts.Strict && strings.HasPrefix(strings.ToLower(urlStr), "ws:") {
		var nd net.Dialer
		d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &frameGuard{Conn: c, skipHTTP: true}, nil
		}
	}
	c, resp, err := d.DialContext(ctx, urlStr, opts.Header)
	if err != nil {
		return nil, resp, fmt.Errorf("failed to dial %s: %w", urlStr, err)
	}
	if opts.ReadLimit > 0 {
		c.SetReadLimit(opts.ReadLimit)
	}
	return &Conn{c: c, threshold: opts.CompressionThreshold, compress: opts.Compression}, resp, nil
}

// pools holds one write-buffer pool per buffer size, as gorilla asks.
var pools sync.Map // int -> *poolAdapter

func poolFor(size int) *poolAdapter {
	if p, ok := pools.Load(size); ok {
		return p.(*poolAdapter)
	}
	p, _ := pools.LoadOrStore(size, &poolAdapter{})
	return p.(*poolAdapter)
}
