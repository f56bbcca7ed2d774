package webtransport

import (
	"context"
	"net/http"

	wt "github.com/quic-go/webtransport-go"

	"github.com/sockio/sockio/engineio"
)

// Handler serves the Engine.IO path of an HTTP/3 server: WebTransport
// sessions (extended CONNECT requests) go to engine's ServeWebTransport,
// any other request (polling over HTTP/3) to engine itself.
//
// The engine checks a session's origin against its AllowedOrigins before
// it is accepted, so Handler sets server.CheckOrigin, when nil, to accept
// every origin: webtransport-go's default wants the page's origin to be
// the WebTransport server's own host, which a page served over TCP on
// another port never is.
func Handler(engine *engineio.Server, server *wt.Server) http.Handler {
	if server.CheckOrigin == nil {
		server.CheckOrigin = func(*http.Request) bool { return true }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			engine.ServeHTTP(w, r)
			return
		}
		engine.ServeWebTransport(w, r, func() (engineio.WebTransportSession, error) {
			s, err := server.Upgrade(w, r)
			if err != nil {
				return nil, err
			}
			return session{s}, nil
		})
	})
}

// session adapts a webtransport-go session to what the engine uses.
type session struct{ s *wt.Session }

func (x session) AcceptStream(ctx context.Context) (engineio.WebTransportStream, error) {
	st, err := x.s.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (x session) Close() error { return x.s.CloseWithError(0, "") }
