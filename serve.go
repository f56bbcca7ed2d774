package sockio

import (
	"fmt"
	"net"
	"net/http"

	"github.com/sockio/sockio/internal/fastaccept"
)

// The http.Server limits Serve and ListenAndServe apply where the server
// leaves them unset. Copy them into an http.Server you serve yourself
// (hs.Serve, hs.ListenAndServeTLS): net/http sets no timeout by default,
// and a Socket.IO server is open to the internet.
const (
	// DefaultReadHeaderTimeout bounds reading a request head: 10 s, many
	// times what a real client on a slow link needs, and a bound on
	// slowloris peers that send a head a byte at a time. (Node: 60 s.)
	DefaultReadHeaderTimeout = fastaccept.DefaultReadHeaderTimeout
	// DefaultIdleTimeout closes keep-alive connections that send no next
	// request: 6 s, Node's 5 s keepAliveTimeout plus the 1 s buffer Node
	// added (24.6) so that clients, which close their idle connections at
	// 4 or 5 s, do it first. Without it, idle connections pile up until
	// the process runs out of file descriptors and refuses everyone.
	DefaultIdleTimeout = fastaccept.DefaultIdleTimeout
	// DefaultMaxHeaderBytes bounds a request head: 16 KiB, Node's
	// maxHeaderSize; larger heads get 431. net/http's own default is
	// 1 MiB, and Engine.IO keeps a session's handshake headers for its
	// life.
	DefaultMaxHeaderBytes = fastaccept.DefaultMaxHeaderBytes
)

// Serve accepts connections on ln and serves hs on them, as hs.Serve(ln)
// does, with safe limits and a shortcut for WebSocket connections.
//
// Limits: before serving, Serve sets those of hs's limits that are unset
// (zero), so that no idle, slow or oversized request can hold a
// connection or memory for long:
//   - ReadHeaderTimeout: DefaultReadHeaderTimeout (10 s), unless ReadTimeout
//     is positive (net/http then bounds the head with it);
//   - IdleTimeout: DefaultIdleTimeout (6 s), unless ReadTimeout is positive
//     (likewise);
//   - MaxHeaderBytes: DefaultMaxHeaderBytes (16 KiB); a larger head gets
//     431 Request Header Fields Too Large and the connection closes.
//
// A negative value is kept: it is net/http's "no limit" (for
// MaxHeaderBytes, net/http's 1 MiB), for an owner who wants that. Serve
// leaves ReadTimeout and WriteTimeout as they are: a WriteTimeout under
// the ping interval (25 s) would cut long-polling GETs, which are answered
// when packets come or a ping is due, and the Server bounds a polling
// POST's body with a deadline of its own.
//
// The shortcut: when a connection's first request asks for a WebSocket
// upgrade, hs.Handler gets it without net/http's per-connection state (a
// connection object, a context and 12 KiB of buffers that an upgraded
// connection cannot give back). That makes accepting a Socket.IO
// connection cheaper; nothing else changes.
//
// Every other connection is hs's, with all of its settings. The shortcut
// reads the request head under hs's header timeout, which is not
// restarted when the head turns out to be net/http's; it takes only heads
// that net/http would serve (a head it would refuse, such as one with an
// invalid header name, gets net/http's 400), and only plain-TCP
// connections: TLS connections go to hs whole. hs's ConnState and
// ConnContext hooks do not see the connections it takes.
//
// Serve returns http.ErrServerClosed after hs.Shutdown or hs.Close, which
// also close ln; otherwise the listener's error.
//
// A listener from net.ListenConfig{KeepAlive: -1} saves three more system
// calls per connection: TCP keep-alive is redundant next to Engine.IO's
// heartbeat.
func Serve(ln net.Listener, hs *http.Server) error {
	fastaccept.SetDefaults(hs)
	return fastaccept.Serve(ln, hs)
}

// ListenAndServe listens on the TCP address addr and serves handler, nil
// meaning http.DefaultServeMux, as http.ListenAndServe does, but through
// Serve: with its limits and its WebSocket shortcut. Like
// http.ListenAndServe, it offers no way to shut down; for that, build an
// http.Server and call Serve.
func ListenAndServe(addr string, handler http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sockio: listen on %s: %w", addr, err)
	}
	return Serve(ln, &http.Server{Handler: handler})
}
