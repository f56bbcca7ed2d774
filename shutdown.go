package sockio

import "context"

// Shutdown takes the node out of its cluster gracefully, for a deploy or a
// scale-down: it stops taking new sessions at once (Draining reports true,
// for a readiness endpoint; a handshake that still arrives is passed to
// another node with Options.Forwarding, or refused with 503), tells the
// cluster's directory the node is draining when Forwarding.Peers has a
// Drain method (adapter/cluster's Peers does), then closes every
// connection as Close does. The clients reconnect, through the balancer,
// to the other nodes; with connection-state recovery and a cluster
// adapter that keeps sessions across nodes, they get their ids, rooms and
// every event they missed.
//
// Stop routing new clients to the node (flip readiness) some time before
// calling Shutdown, or call it from the handler of SIGTERM after a short
// delay, so that the balancer has noticed. The HTTP server is the
// caller's to shut down afterwards: forwarded requests go on until then.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.Drain()
	return srv.Close(ctx)
}

// Drain is the first half of Shutdown: no new sessions, the directory
// told; the open connections go on. Shutdown (or Close) ends them.
func (srv *Server) Drain() {
	srv.engine.Drain()
	if f := srv.opts.Forwarding; f != nil {
		if d, ok := f.Peers.(interface{ Drain() }); ok {
			d.Drain()
		}
	}
}

// Draining reports whether Drain or Shutdown was called: a readiness
// endpoint answers "not ready" from then on.
func (srv *Server) Draining() bool { return srv.engine.Draining() }
