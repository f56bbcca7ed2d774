package sockio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
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
	closed  bool // Close was called: no more timers for namespaces

	workers workerPool
	stats   serverStats // see Stats
}

// checkedHTTP looks at the serving http.Server's limits once per process:
// one warning is enough, and tests start many servers.
var checkedHTTP sync.Once

// NewServer returns a server with opts (zero values take the defaults).
func NewServer(opts Options) *Server {
	opts = opts.withDefaults()
	srv := &Server{opts: opts, nsps: make(map[string]*Namespace)}
	srv.engine = engineio.NewServer(opts.engine())
	srv.engine.OnConnection(func(s *engineio.Session) {
		c := newClient(srv, s)
		s.SetHandler((*engineHandler)(c))
		c.connectRootV3() // a Socket.IO v2 client is connected to "/" by the server
	})
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
	checkedHTTP.Do(func() { warnUnsafeServer(r) })
	srv.engine.ServeHTTP(w, r)
}

// warnUnsafeServer logs once when the http.Server that serves r has none
// of the limits sockio.Serve would set: a handler cannot set them itself,
// and without them idle or trickling clients each hold a file descriptor
// for as long as they like (see the package doc, "Serving").
func warnUnsafeServer(r *http.Request) {
	hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return
	}
	var missing []string
	if hs.ReadHeaderTimeout == 0 && hs.ReadTimeout <= 0 {
		missing = append(missing, "ReadHeaderTimeout")
	}
	if hs.IdleTimeout == 0 && hs.ReadTimeout <= 0 {
		missing = append(missing, "IdleTimeout")
	}
	if len(missing) > 0 {
		slog.Warn("sockio: the http.Server serving this handler has no "+strings.Join(missing, " or ")+
			": idle and slow clients can hold connections open without end; serve with sockio.Serve or sockio.ListenAndServe, or set the sockio.Default* values",
			"missing", missing)
	}
}

// Of returns the namespace name, creating it on first use. A name without
// a leading slash gets one. For the name of a child namespace that a
// parent created, it returns that child, which CleanupEmptyChildNamespaces
// may later remove.
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
	n.stats = srv.stats.add(name, false)
	srv.nsps[name] = n
	return n
}

// OfFunc declares dynamic namespaces: a client connecting to a name for
// which match returns true gets a namespace created on the fly.
func (srv *Server) OfFunc(match func(name string, auth map[string]any) bool) *ParentNamespace {
	return srv.ofFunc(match, "(dynamic)")
}

// ofFunc makes a parent whose children are counted together under label
// (see NamespaceStats.Name).
func (srv *Server) ofFunc(match func(name string, auth map[string]any) bool, label string) *ParentNamespace {
	p := &ParentNamespace{server: srv, match: match, children: make(map[string]*Namespace)}
	p.stats = srv.stats.add(label, true)
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// OfRegexp declares dynamic namespaces whose names match re, like
// io.of(/^\/dyn-\d+$/) in the reference.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.ofFunc(func(name string, _ map[string]any) bool { return re.MatchString(name) }, re.String())
}

// namespaceFor finds the namespace a client asks for, creating a dynamic
// child if a parent matches; nil if there is none. The namespace returned
// is held for the client's socket (see Namespace.refs): the caller must
// hand the hold to the socket or give it back with releaseNamespace.
func (srv *Server) namespaceFor(name string, auth map[string]any) *Namespace {
	srv.mu.RLock()
	n := srv.nsps[name]
	if n != nil {
		n.refs.Add(1) // under the lock: a cleanup cannot slip in between
	}
	parents := srv.parents
	srv.mu.RUnlock()
	if n != nil {
		return n
	}
	if len(name) > srv.opts.MaxNamespaceNameBytes {
		srv.stats.invalidNamespace.Add(1)
		return nil // not even shown to a match function
	}
	for _, p := range parents {
		if !p.match(name, auth) {
			continue
		}
		srv.mu.Lock()
		if n = srv.nsps[name]; n == nil {
			n = newNamespace(srv, name)
			n.parent = p
			n.stats = p.stats
			srv.nsps[name] = n
			p.mu.Lock()
			p.children[name] = n
			p.mu.Unlock()
		}
		n.refs.Add(1)
		srv.mu.Unlock()
		return n
	}
	srv.stats.invalidNamespace.Add(1)
	return nil
}

// releaseNamespace gives back a hold namespaceFor took, when the socket
// leaves or is refused. The last one of a child namespace removes it if
// the server cleans up empty children; keep (a session left for recovery)
// delays that until the session can no longer be recovered.
func (srv *Server) releaseNamespace(n *Namespace, keep bool) {
	if n.parent == nil || !srv.opts.CleanupEmptyChildNamespaces {
		n.refs.Add(-1)
		return
	}
	if keep && srv.opts.ConnectionStateRecovery != nil {
		// Whether or not it is the last: a later socket leaving for good
		// must not take this one's session with it.
		srv.keepNamespace(n, srv.opts.ConnectionStateRecovery.MaxDisconnectionDuration)
	}
	if n.refs.Add(-1) == 0 {
		srv.removeIfEmpty(n)
	}
}

// keepNamespace keeps n for at least d, then removes it if it is empty
// then. One timer per namespace, pushed back as sockets leave.
func (srv *Server) keepNamespace(n *Namespace, d time.Duration) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed || srv.nsps[n.name] != n {
		return
	}
	if until := time.Now().Add(d); until.After(n.keepUntil) {
		n.keepUntil = until
	}
	if n.keepTimer == nil {
		n.keepTimer = time.AfterFunc(d, func() { srv.removeIfEmpty(n) })
	} else {
		n.keepTimer.Reset(time.Until(n.keepUntil))
	}
}

// removeIfEmpty removes child namespace n from the server and its parent
// and closes its adapter, unless a socket holds it (connected, or
// connecting) or it is kept for recovery.
func (srv *Server) removeIfEmpty(n *Namespace) {
	srv.mu.Lock()
	if n.refs.Load() > 0 || srv.nsps[n.name] != n || time.Now().Before(n.keepUntil) {
		srv.mu.Unlock()
		return
	}
	delete(srv.nsps, n.name)
	if n.keepTimer != nil {
		n.keepTimer.Stop()
	}
	n.parent.mu.Lock()
	if n.parent.children[n.name] == n {
		delete(n.parent.children, n.name)
	}
	n.parent.mu.Unlock()
	srv.mu.Unlock()
	// On its own goroutine: this runs on a client's worker, and a cluster
	// adapter's Close waits for its requests, whose callbacks may need
	// that worker.
	go n.closeAdapter()
}

// Namespaces returns the namespaces that exist now: those created with Of,
// and the children parents created for clients (see
// Options.CleanupEmptyChildNamespaces).
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
// flushing what each has queued, waits until the connections are gone and
// their sockets' disconnect sequences ended (disconnect handlers run,
// sessions kept for connection-state recovery), then closes the adapters.
// The wait ends with ctx, and after closeWaitMax at most: a Close called
// from a socket's handler holds that socket's sequence. The HTTP server
// that serves srv is the caller's to shut down.
func (srv *Server) Close(ctx context.Context) error {
	srv.mu.Lock()
	srv.closed = true
	for _, n := range srv.nsps {
		if n.keepTimer != nil {
			n.keepTimer.Stop()
		}
	}
	srv.mu.Unlock()
	// Taken before the connections close: a socket leaves its namespace
	// during its disconnect sequence.
	sockets := srv.sockets()
	err := srv.engine.Close(ctx, ReasonServerShuttingDown)
	// The adapters close only after the sockets' sessions are kept: a
	// cluster adapter keeps them in its broker, which the caller may close
	// as soon as Close returns.
	wctx, cancel := context.WithTimeout(ctx, closeWaitMax)
	srv.waitFinished(wctx, sockets)
	cancel()
	for _, n := range srv.Namespaces() {
		n.closeAdapter()
	}
	srv.workers.close()
	return err
}

// closeWaitMax bounds how long Close waits for disconnect sequences.
const closeWaitMax = 10 * time.Second

// sockets returns the sockets of every namespace.
func (srv *Server) sockets() []*Socket {
	var out []*Socket
	for _, n := range srv.Namespaces() {
		out = append(out, n.Sockets()...)
	}
	return out
}

// waitFinished waits until the disconnect sequences of sockets, and then
// of those still in a namespace (they connected meanwhile), ended, or ctx
// did.
func (srv *Server) waitFinished(ctx context.Context, sockets []*Socket) {
	for len(sockets) > 0 {
		for _, s := range sockets {
			select {
			case <-s.finished:
			case <-ctx.Done():
				return
			}
		}
		sockets = srv.sockets()
	}
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

// ServerSideEmitWithAck sends an event to the main namespace on the other
// nodes and waits for their acknowledgements (Namespace.ServerSideEmitWithAck).
func (srv *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return srv.def.ServerSideEmitWithAck(ctx, event, args...)
}

// newSocketID returns a random socket id like the reference's (20 characters).
func newSocketID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
