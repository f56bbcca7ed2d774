package sockio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sockio/sockio/engineio"
)

// Server is a Socket.IO server and an http.Handler: mount it at Path
// (default "/socket.io/").
type Server struct {
	opts   Options
	engine *engineio.Server

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace
	def     *Namespace

	workers workerPool
}

// NewServer returns a server with opts (zero values take the defaults).
func NewServer(opts Options) *Server {
	opts = opts.withDefaults()
	srv := &Server{opts: opts, nsps: make(map[string]*Namespace)}
	srv.engine = engineio.NewServer(opts.engine())
	srv.engine.OnConnection(func(s *engineio.Session) { s.SetHandler(newClient(srv, s)) })
	srv.def = srv.Of("/")
	return srv
}

func (srv *Server) adapterFactory(n *Namespace) Adapter { return srv.opts.Adapter(n) }

// Engine returns the underlying Engine.IO server.
func (srv *Server) Engine() *engineio.Server { return srv.engine }

// ServeHTTP serves the protocol on the server's Path.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, srv.opts.Path) && r.URL.Path+"/" != srv.opts.Path {
		http.NotFound(w, r)
		return
	}
	srv.engine.ServeHTTP(w, r)
}

// Of returns the namespace name, creating it on first use. A name without
// a leading slash gets one.
func (srv *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if n := srv.nsps[name]; n != nil {
		return n
	}
	n := newNamespace(srv, name)
	srv.nsps[name] = n
	return n
}

// OfFunc declares dynamic namespaces: a client connecting to a name for
// which match returns true gets a namespace created on the fly.
func (srv *Server) OfFunc(match func(name string, auth map[string]any) bool) *ParentNamespace {
	p := &ParentNamespace{server: srv, match: match, children: make(map[string]*Namespace)}
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// OfRegexp declares dynamic namespaces whose names match re, like
// io.of(/^\/dyn-\d+$/) in the reference.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.OfFunc(func(name string, _ map[string]any) bool { return re.MatchString(name) })
}

// namespaceFor finds the namespace a client asks for, creating a dynamic
// child if a parent matches; nil if there is none.
func (srv *Server) namespaceFor(name string, auth map[string]any) *Namespace {
	srv.mu.RLock()
	n := srv.nsps[name]
	parents := srv.parents
	srv.mu.RUnlock()
	if n != nil {
		return n
	}
	for _, p := range parents {
		if !p.match(name, auth) {
			continue
		}
		srv.mu.Lock()
		if n = srv.nsps[name]; n == nil {
			n = newNamespace(srv, name)
			n.parent = p
			srv.nsps[name] = n
			p.mu.Lock()
			p.children[name] = n
			p.mu.Unlock()
		}
		srv.mu.Unlock()
		return n
	}
	return nil
}

// Namespaces returns the namespaces that exist now.
func (srv *Server) Namespaces() []*Namespace {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	out := make([]*Namespace, 0, len(srv.nsps))
	for _, n := range srv.nsps {
		out = append(out, n)
	}
	return out
}

// Close closes every connection with reason "server shutting down",
// flushing what each has queued, waits until the connections are gone or
// ctx ends, then closes the adapters. Sockets' disconnect handlers run on
// their connections' workers, possibly just after Close returns. The HTTP
// server that serves srv is the caller's to shut down.
func (srv *Server) Close(ctx context.Context) error {
	err := srv.engine.Close(ctx, ReasonServerShuttingDown)
	for _, n := range srv.Namespaces() {
		_ = n.adapter.Close()
	}
	srv.workers.close()
	return err
}

// The default namespace's API, on the server, as in the reference.

// Use adds a connection middleware to "/".
func (srv *Server) Use(fn func(s *Socket) error) { srv.def.Use(fn) }

// OnConnection registers a connection handler on "/".
func (srv *Server) OnConnection(fn func(s *Socket)) { srv.def.OnConnection(fn) }

// To returns an operator broadcasting to rooms of "/".
func (srv *Server) To(rooms ...string) *BroadcastOperator { return srv.def.To(rooms...) }

// In is the same as To.
func (srv *Server) In(rooms ...string) *BroadcastOperator { return srv.def.In(rooms...) }

// Except returns an operator broadcasting to all of "/" but rooms.
func (srv *Server) Except(rooms ...string) *BroadcastOperator { return srv.def.Except(rooms...) }

// Volatile returns a volatile operator on "/".
func (srv *Server) Volatile() *BroadcastOperator { return srv.def.Volatile() }

// Local returns an operator on "/" limited to this node.
func (srv *Server) Local() *BroadcastOperator { return srv.def.Local() }

// Compress returns an operator on "/" with compression on or off.
func (srv *Server) Compress(on bool) *BroadcastOperator { return srv.def.Compress(on) }

// Timeout returns an operator on "/" with an acknowledgement timeout.
func (srv *Server) Timeout(d time.Duration) *BroadcastOperator { return srv.def.Timeout(d) }

// Emit sends an event to every socket of "/".
func (srv *Server) Emit(event string, args ...any) error { return srv.def.Emit(event, args...) }

// EmitWithAck sends an event to every socket of "/" and gathers answers.
func (srv *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return srv.def.EmitWithAck(ctx, event, args...)
}

// FetchSockets returns the sockets of "/".
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.def.FetchSockets(ctx)
}

// SocketsJoin makes every socket of "/" join rooms.
func (srv *Server) SocketsJoin(rooms ...string) { srv.def.SocketsJoin(rooms...) }

// SocketsLeave makes every socket of "/" leave rooms.
func (srv *Server) SocketsLeave(rooms ...string) { srv.def.SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of "/".
func (srv *Server) DisconnectSockets(close bool) { srv.def.DisconnectSockets(close) }

// ServerSideEmit sends an event to "/" on the other nodes.
func (srv *Server) ServerSideEmit(event string, args ...any) error {
	return srv.def.ServerSideEmit(event, args...)
}

// newSocketID returns a random socket id like the reference's (20 characters).
func newSocketID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
