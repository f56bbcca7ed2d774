package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

// Server is an Engine.IO server. It is an http.Handler: mount it on the
// path the clients use (by default "/engine.io/" or, under Socket.IO,
// "/socket.io/"); it does not look at the path itself.
type Server struct {
	opts    Options
	onConn  func(*Session)
	origins *origins // AllowedOrigins, parsed; nil allows all

	mu        sync.RWMutex
	sessions  map[string]*Session
	lingering map[string]*Session // closed by a POSTed close (order.go)
	closed    bool
	allDone   chan struct{} // closed when closed and no session is left

	flusher flusher // writes websocket sessions' queues

	fw       *forwarder  // Forwarding; nil without
	draining atomic.Bool // Drain was called

	stats counters // see Stats
}

// NewServer returns a server with opts, defaults filled in.
func NewServer(opts Options) *Server {
	opts = opts.withDefaults()
	o := parseOrigins(opts.AllowedOrigins)
	if o != nil && opts.CORS == nil {
		opts.CORS = o.cors()
	}
	srv := &Server{opts: opts, origins: o, sessions: make(map[string]*Session)}
	if f := opts.Forwarding; f != nil {
		if err := f.check(); err != nil {
			panic(err) // a programming error, as a bad pattern for http.ServeMux
		}
		srv.fw = newForwarder(f, opts.CORS != nil, &srv.stats)
	}
	return srv
}

// Options returns the options in force, defaults filled in.
func (srv *Server) Options() Options { return srv.opts }

// OnConnection sets the callback run for each new session, before the
// handshake answer leaves: set the session's Handler there.
func (srv *Server) OnConnection(fn func(*Session)) { srv.onConn = fn }

// Count returns the number of open sessions.
func (srv *Server) Count() int {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return len(srv.sessions)
}

// Session returns the open session with id, or nil.
func (srv *Server) Session(id string) *Session {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.sessions[id]
}

// ServeHTTP serves the Engine.IO protocol.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.checkHead(w, r) {
		return
	}
	if srv.opts.CORS != nil && srv.opts.CORS.apply(w, r) {
		return
	}
	upgrade := wsconnIsUpgrade(r)
	refuse := writeError
	if upgrade {
		refuse = writeUpgradeError
	}
	// Every request, not only handshakes: a page of another origin must not
	// drive a session it learnt the id of either.
	if !srv.origins.allowed(r) {
		refuse(w, CodeForbidden, "")
		return
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	if !srv.opts.allows(transport) || transport == WebTransport { // that one comes over HTTP/3 (ServeWebTransport)
		refuse(w, CodeUnknownTransport, "")
		return
	}
	if sid := q.Get("sid"); sid != "" {
		s := srv.Session(sid)
		if s == nil {
			if !upgrade && srv.serveLingering(w, r, sid, transport) {
				return
			}
			if srv.fw.forward(w, r, sid, upgrade) {
				return
			}
			refuse(w, CodeUnknownSID, "")
			return
		}
		if upgrade {
			if transport != WebSocket || protocolOf(q) != s.Protocol() {
				refuse(w, CodeBadRequest, "")
				return
			}
			if err := srv.allowRequest(r); err != nil {
				refuse(w, CodeForbidden, err.Error())
				return
			}
			s.upgrade(w, r)
			return
		}
		if s.Transport() != transport || protocolOf(q) != s.Protocol() {
			writeError(w, CodeBadRequest, "")
			return
		}
		switch r.Method {
		case http.MethodGet:
			if r.Header.Get(releaseHeader) != "" && r.Header.Get(ForwardedHeader) != "" {
				s.releasePoll()
				w.WriteHeader(http.StatusNoContent)
				return
			}
			srv.stats.pollGets.Add(1)
			s.servePoll(w, r)
		case http.MethodPost:
			srv.stats.pollPosts.Add(1)
			s.servePost(w, r)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, CodeBadHandshakeMethod, "")
		return
	}
	if transport == WebSocket && !upgrade {
		writeError(w, CodeBadRequest, "")
		return
	}
	if err := srv.allowRequest(r); err != nil {
		refuse(w, CodeForbidden, err.Error())
		return
	}
	if p := protocolOf(q); p != 4 && !(p == 3 && srv.opts.AllowEIO3) {
		refuse(w, CodeUnsupportedProtocol, "")
		return
	}
	if srv.draining.Load() {
		srv.refuseDraining(w, r, upgrade)
		return
	}
	srv.handshake(w, r, transport, q)
}

func (srv *Server) allowRequest(r *http.Request) error {
	if srv.opts.AllowRequest == nil {
		return nil
	}
	return srv.opts.AllowRequest(r)
}

// handshake opens a session on transport and answers with the open packet.
func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, transport string, q url.Values) {
	s := &Session{
		id:        srv.newID(),
		srv:       srv,
		transport: transport,
		hs: Handshake{
			// Compact copies, bounded (see keepValues): the request's own
			// maps cost several times their bytes, and a session keeps them
			// for its whole life.
			Header:     keepValues(r.Header, srv.opts.MaxHeaderBytes, keptHeaders),
			Query:      keepValues(q, srv.opts.MaxURLBytes, keptQuery),
			RemoteAddr: r.RemoteAddr,
			Host:       r.Host,
			URL:        requestURI(r),
			Secure:     r.TLS != nil,
			Time:       time.Now(),
			Context:    context.WithoutCancel(r.Context()),
		},
	}
	if protocolOf(q) == 3 {
		s.eio3 = newEIO3Session(q, transport) // see eio3.go
	}
	var header http.Header
	if c := srv.opts.Cookie; c != nil {
		header = http.Header{}
		header.Add("Set-Cookie", srv.cookie(s.id).String())
		if transport == Polling {
			w.Header().Add("Set-Cookie", srv.cookie(s.id).String())
		}
	}
	if transport == WebSocket && srv.hasHeaderHooks() {
		// The polling handshake runs them in servePoll, with its answer.
		if header == nil {
			header = http.Header{}
		}
		srv.applyHeaders(header, r, true)
	}

	offerUpgrade := transport == Polling && !srv.opts.DisableUpgrades
	// The open packet as a text message: type byte, then its JSON.
	open := srv.appendOpen(append(make([]byte, 0, 160), '0'), s.id, offerUpgrade)
	if transport == WebSocket {
		// The open packet rides with the handshake response: one write.
		// A closing server sends none: the session will not be added.
		greeting := open
		if srv.isClosed() {
			greeting = nil
		}
		ws, err := srv.accept(w, r, header, greeting)
		if err != nil {
			return
		}
		s.ws = ws
		if greeting != nil {
			srv.stats.packetsOut.Add(1)
			srv.stats.bytesOut.Add(uint64(len(greeting)))
		}
	} else {
		s.queue = append(s.queue, frame{Packet: packet.Packet{Type: packet.Open, Data: open[1:]}})
	}
	// Complete before the session is visible: Close may reach it at once.
	first := srv.opts.PingInterval // the first ping; protocol 3: the last moment for the client's
	if s.eio3 != nil {
		first += srv.opts.PingTimeout
	}
	s.timerAt = time.Now().Add(first)
	s.timer = time.AfterFunc(first, s.onTimer)
	if !srv.add(s) {
		s.timer.Stop()
		if s.ws != nil {
			_ = s.ws.Close(1001, "server shutting down")
		} else {
			writeError(w, CodeBadRequest, "server is closing")
		}
		return
	}
	srv.stats.opened[transportIndex(transport)].Add(1)
	if srv.onConn != nil {
		srv.onConn(s)
	}
	if transport == WebSocket {
		s.mu.Lock()
		s.kickLocked()
		s.mu.Unlock()
		// Read elsewhere and return: net/http then frees the request's
		// buffers, which an idle connection would else hold.
		s.watchWebSocket(s.ws)
		return
	}
	s.servePoll(w, r)
}

func (srv *Server) cookie(sid string) *http.Cookie {
	c := srv.opts.Cookie
	ck := &http.Cookie{Name: c.Name, Value: sid, Path: c.Path, HttpOnly: c.HTTPOnly, SameSite: c.SameSite, Secure: c.Secure, MaxAge: c.MaxAge}
	if ck.Name == "" {
		ck.Name = "io"
	}
	if ck.Path == "" {
		ck.Path = "/"
	}
	if ck.SameSite == 0 {
		ck.SameSite = http.SameSiteLaxMode
	}
	return ck
}

func (srv *Server) isClosed() bool {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.closed
}

func (srv *Server) add(s *Session) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return false
	}
	srv.sessions[s.id] = s
	return true
}

func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
	}
	if srv.closed && len(srv.sessions) == 0 && srv.allDone != nil {
		select {
		case <-srv.allDone:
		default:
			close(srv.allDone)
		}
	}
}

// Close refuses new sessions, closes every session with reason (flushing
// what each has queued), and waits until all are gone or ctx ends.
func (srv *Server) Close(ctx context.Context, reason string) error {
	if reason == "" {
		reason = ReasonServerShutdown
	}
	srv.fw.close() // the long polls it forwards are answered now
	srv.mu.Lock()
	srv.closed = true
	done := srv.allDone // a second Close waits for the same end
	if done == nil {
		done = make(chan struct{})
		if len(srv.sessions) == 0 {
			close(done)
		} else {
			srv.allDone = done
		}
	}
	list := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		list = append(list, s)
	}
	srv.mu.Unlock()
	for _, s := range list {
		s.shutdown(reason)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, s := range list {
			s.finish(reason, nil, packet.Close)
		}
		return ctx.Err()
	}
}

// appendOpen appends the open packet's JSON. It is written by hand, not by
// encoding/json: it is the same five fields for every connection, and
// reflection was a visible share of the cost of an accept. The session id
// is URL-safe base64, with a node name of the same characters and a '.'
// when forwarding, so it needs no escaping.
func (srv *Server) appendOpen(b []byte, sid string, offerUpgrade bool) []byte {
	b = append(b, `{"sid":"`...)
	b = append(b, sid...)
	b = append(b, `","upgrades":[`...)
	if offerUpgrade && srv.opts.allows(WebSocket) {
		b = append(b, `"websocket"`...)
	}
	if offerUpgrade && srv.opts.allows(WebTransport) {
		if b[len(b)-1] != '[' {
			b = append(b, ',')
		}
		b = append(b, `"webtransport"`...) // the reference's order: polling.upgradesTo
	}
	b = append(b, `],"pingInterval":`...)
	b = strconv.AppendInt(b, srv.opts.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, srv.opts.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, srv.opts.MaxHTTPBufferSize, 10)
	return append(b, '}')
}

// newID returns a random session id: 15 bytes, base64url (20 characters).
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newID returns a new session id, which names this node when forwarding
// is on ("<node>.<random>"; '.' is never in the random part).
func (srv *Server) newID() string {
	if srv.fw != nil {
		return srv.fw.self + "." + newID()
	}
	return newID()
}

// requestURI is the request's path and query, without a copy when the
// client sent the usual origin form.
func requestURI(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") { // not a proxy's absolute form
		return r.RequestURI
	}
	return r.URL.RequestURI()
}
