package engineio

import "net/http"

// applyHeaders runs the InitialHeaders and Headers hooks on h, the
// headers of a successful response to r; initial marks the handshake's.
func (srv *Server) applyHeaders(h http.Header, r *http.Request, initial bool) {
	if initial && srv.opts.InitialHeaders != nil {
		srv.opts.InitialHeaders(h, r)
	}
	if srv.opts.Headers != nil {
		srv.opts.Headers(h, r)
	}
}

// hasHeaderHooks reports whether a response needs applyHeaders.
func (srv *Server) hasHeaderHooks() bool {
	return srv.opts.InitialHeaders != nil || srv.opts.Headers != nil
}

// isHandshake reports whether r opens a session (it names none).
func isHandshake(r *http.Request) bool { return r.URL.Query().Get("sid") == "" }
