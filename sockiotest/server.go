package sockiotest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sockio/sockio/engineio"
)

// CloseTimeout bounds the shutdown NewServer's cleanup waits for.
const CloseTimeout = 5 * time.Second

// Server is what NewServer serves and shuts down: a *sockio.Server. It is
// an interface, not the type, so that package sockiotest does not import
// package sockio, whose own (internal) tests use the kit too.
type Server interface {
	http.Handler
	Close(ctx context.Context) error
	Engine() *engineio.Server
}

// NewServer serves srv, a new sockio.NewServer(opts), on a new
// httptest.Server (127.0.0.1, a free port; its URL is the base URL for
// Dial and Connect), and returns both:
//
//	io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{}))
//
// When the test ends it closes srv, failing the test if Close does not end
// within CloseTimeout or leaves Engine.IO sessions open, then closes the
// HTTP server. Cleanups registered before NewServer (a Redis client the
// adapter uses, say) run after it.
func NewServer[S Server](t TB, srv S) (S, *httptest.Server) {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("sockiotest: failed to close the server within %v: %v", CloseTimeout, err)
		} else if n := srv.Engine().Count(); n != 0 {
			t.Errorf("sockiotest: %d Engine.IO sessions still open after Close", n)
		}
		hs.Close()
	})
	return srv, hs
}
