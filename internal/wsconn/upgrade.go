package wsconn

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// UpgradeOptions configure Upgrade, the accept path of the plain WebSocket
// layer. It adds to AcceptOptions what that layer needs and engineio does not.
type UpgradeOptions struct {
	AcceptOptions
	// Subprotocol is the subprotocol chosen for this connection, already
	// checked against the client's offer; empty selects none. When set,
	// AcceptOptions.Subprotocols is ignored.
	Subprotocol string
	// Strict adds the frame checks gorilla/websocket skips (see frameGuard).
	Strict bool
	// HandshakeTimeout bounds writing the handshake response.
	HandshakeTimeout time.Duration
}

// Upgrade completes the WebSocket handshake like Accept, with the options
// of the plain WebSocket layer. Unlike Accept, a nil CheckOrigin means
// gorilla's same-origin check is not applied either: the caller decides.
func Upgrade(w http.ResponseWriter, r *http.Request, opts UpgradeOptions) (*Conn, error) {
	checkOrigin := opts.CheckOrigin
	if checkOrigin == nil {
		checkOrigin = func(*http.Request) bool { return true }
	}
	header := opts.Header
	subprotocols := opts.Subprotocols
	if opts.Subprotocol != "" {
		// gorilla takes the choice from the response header when it has no list.
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		header.Set("Sec-WebSocket-Protocol", opts.Subprotocol)
		subprotocols = nil
	}
	up := websocket.Upgrader{
		HandshakeTimeout:  opts.HandshakeTimeout,
		ReadBufferSize:    orDefault(opts.ReadBufferSize, 1024),
		WriteBufferSize:   orDefault(opts.WriteBufferSize, 4096),
		WriteBufferPool:   writeBufferPool,
		CheckOrigin:       checkOrigin,
		EnableCompression: opts.Compression,
		Subprotocols:      subprotocols,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, http.StatusText(status)+": "+reason.Error(), status)
		},
	}
	if opts.Strict {
		w = &guardedWriter{ResponseWriter: w}
	}
	c, err := up.Upgrade(w, r, header)
	if err != nil {
		return nil, fmt.Errorf("failed to accept websocket: %w", err)
	}
	if opts.ReadLimit > 0 {
		c.SetReadLimit(opts.ReadLimit)
	}
	return &Conn{c: c, threshold: opts.CompressionThreshold, compress: opts.Compression}, nil
}

// guardedWriter hands gorilla a hijacked connection wrapped in a frameGuard.
type guardedWriter struct {
	http.ResponseWriter
}

func (g *guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(g.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &frameGuard{Conn: c}, brw, nil
}

// Unwrap lets http.ResponseController reach the original writer.
func (g *guardedWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
