package sockio

import (
	"net"
	"net/http"

	"github.com/sockio/sockio/internal/fastaccept"
)

// Serve accepts connections on ln and serves hs on them, as hs.Serve(ln)
// does, with a shortcut for WebSocket connections: when a connection's
// first request asks for a WebSocket upgrade, hs.Handler gets it without
// net/http's per-connection state (a connection object, a context and
// 12 KiB of buffers that an upgraded connection cannot give back). That
// makes accepting a Socket.IO connection cheaper; nothing else changes.
//
// Every other connection is hs's, with all of its settings. The shortcut
// reads the request head under hs.ReadHeaderTimeout (or ReadTimeout), and
// takes only plain-TCP connections: TLS connections go to hs whole. hs's
// ConnState and ConnContext hooks do not see the connections it takes.
//
// Serve returns http.ErrServerClosed after hs.Shutdown or hs.Close, which
// also close ln; otherwise the listener's error.
//
// A listener from net.ListenConfig{KeepAlive: -1} saves three more system
// calls per connection: TCP keep-alive is redundant next to Engine.IO's
// heartbeat.
func Serve(ln net.Listener, hs *http.Server) error { return fastaccept.Serve(ln, hs) }
