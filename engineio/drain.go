package engineio

import "net/http"

// Drain makes the server stop taking new sessions, for a node about to
// shut down: its open sessions go on, and a handshake that still reaches
// it (a balancer is slow to notice a node is not ready) is passed to
// another live node when Forwarding is on and the handshake is a polling
// one, and refused with 503 Service Unavailable otherwise (the client
// retries, with its reconnection delay, and its balancer sends it
// elsewhere). Close then ends the sessions.
func (srv *Server) Drain() { srv.draining.Store(true) }

// Draining reports whether Drain was called.
func (srv *Server) Draining() bool { return srv.draining.Load() }

// refuseDraining answers a handshake that reached a draining server.
func (srv *Server) refuseDraining(w http.ResponseWriter, r *http.Request, upgrade bool) {
	// A websocket would be piped through this node, which is going away:
	// only polling handshakes are passed on.
	if !upgrade && srv.fw.pass(w, r) {
		return
	}
	srv.stats.drainRefused.Add(1)
	w.Header().Set("Retry-After", "1")
	if upgrade {
		w.Header().Set("Connection", "close")
	}
	writeErrorStatus(w, http.StatusServiceUnavailable, CodeBadRequest, "Server draining")
}
