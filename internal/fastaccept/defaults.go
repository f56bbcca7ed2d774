package fastaccept

import (
	"net/http"
	"sync"
	"time"
)

// The limits every HTTP server of the project runs with (sockio.Serve,
// `sockio serve`, ws.Server.Serve), unless its owner sets others. net/http
// sets none of the timeouts by default, so one idle or slow connection
// costs a file descriptor for as long as the peer likes, and enough of
// them stop the server from accepting anyone.
const (
	// DefaultReadHeaderTimeout bounds the request head, from the
	// connection's first byte wait (or the next request's first byte) to
	// its blank line. A client sends its head in one packet right after
	// connecting; 10 s covers a slow mobile link many times over and
	// bounds a slowloris peer. Node's headersTimeout is 60 s; the
	// project's servers always used 10 s.
	DefaultReadHeaderTimeout = 10 * time.Second

	// DefaultIdleTimeout closes a keep-alive connection that sends no new
	// request. Node closes them after 5 s (keepAliveTimeout), plus 1 s
	// since Node 24.6 (keepAliveTimeoutBuffer): clients tuned for Node
	// close their idle connections at 4 s (undici) or 5 s (Node's agent),
	// and a server that closes at the same instant races them, the client
	// sending a request on a connection being closed. 6 s keeps the
	// client first and still drops a flood of idle connections within
	// seconds. Engine.IO polling loses nothing: its requests follow one
	// another with no idle gap, and a long-poll waiting for packets is a
	// request, not idleness.
	DefaultIdleTimeout = 6 * time.Second

	// DefaultMaxHeaderBytes bounds the request head (request line and
	// headers): Node's default maxHeaderSize, 16 KiB, which browsers'
	// cookies stay under; net/http's own default is 1 MiB. net/http reads
	// up to 4 KiB past it for its buffer, then answers 431 Request Header
	// Fields Too Large and closes.
	DefaultMaxHeaderBytes = 16 << 10
)

// defaultsMu serialises SetDefaults: net/http serves one http.Server on
// several listeners, and two Serve calls must not both write its fields
// (the second finds them set and writes nothing, so there is no write
// racing the first one's readers).
var defaultsMu sync.Mutex

// SetDefaults gives hs the limits above where hs leaves them unbounded:
//   - ReadHeaderTimeout, when it is zero and ReadTimeout does not bound
//     the head instead (net/http uses a positive ReadTimeout for it);
//   - IdleTimeout, when it is zero and ReadTimeout does not bound idleness
//     instead (likewise);
//   - MaxHeaderBytes, when zero.
//
// A negative value is left alone: it is net/http's way to say "no limit"
// (for MaxHeaderBytes, net/http's 1 MiB), so an owner can opt out. Call
// it before serving hs: net/http reads these fields without a lock.
func SetDefaults(hs *http.Server) {
	defaultsMu.Lock()
	defer defaultsMu.Unlock()
	if hs.ReadHeaderTimeout == 0 && hs.ReadTimeout <= 0 {
		hs.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if hs.IdleTimeout == 0 && hs.ReadTimeout <= 0 {
		hs.IdleTimeout = DefaultIdleTimeout
	}
	if hs.MaxHeaderBytes == 0 {
		hs.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
}
