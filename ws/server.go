package ws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sockio/sockio/internal/fastaccept"
	"github.com/sockio/sockio/internal/wsconn"
)

// Server accepts WebSocket connections. It is an http.Handler, to mount at
// any path of any router, or it listens itself with ListenAndServe. The
// zero value is ready to use; set its fields before serving and do not
// change them afterwards.
type Server struct {
	// Handlers receive the events of every connection.
	Handlers
	// ConnOptions set the limits, timeouts, heartbeat and compression of
	// every connection.
	ConnOptions

	// CheckOrigin reports whether a handshake's Origin is acceptable. nil
	// accepts requests without an Origin header (non-browser clients) and
	// those whose Origin host equals the Host header; set it to allow other
	// sites' pages. A refused handshake gets 403.
	CheckOrigin func(r *http.Request) bool
	// Subprotocols lists the subprotocols the server speaks, in order of
	// preference; the first one the client also offers is selected.
	Subprotocols []string
	// SelectSubprotocol, when set, chooses instead of Subprotocols: it gets
	// the client's offer and returns one of its entries, or "" for none.
	// Returning a value the client did not offer refuses the handshake.
	SelectSubprotocol func(r *http.Request, offered []string) string
	// Header is added to every handshake response.
	Header http.Header
	// HandshakeTimeout bounds reading the handshake request when the server
	// listens itself, and writing the response; 0 means 10 s.
	HandshakeTimeout time.Duration

	once     sync.Once
	settings *settings

	mu       sync.Mutex
	conns    map[*Conn]struct{}
	shutdown bool
	http     *http.Server
	wg       sync.WaitGroup // connections still running
}

func (s *Server) init() {
	s.once.Do(func() {
		s.settings = s.ConnOptions.settings(s.Handlers)
		s.conns = make(map[*Conn]struct{})
	})
}

// ServeHTTP upgrades the request to a WebSocket connection, which is then
// served on a goroutine of its own until it ends; ServeHTTP returns at once.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	handedOff := false
	defer func() {
		if !handedOff {
			s.wg.Done()
		}
	}()

	if !wsconn.IsUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this address speaks WebSocket only", http.StatusUpgradeRequired)
		return
	}
	checkOrigin := s.CheckOrigin
	if checkOrigin == nil {
		checkOrigin = sameOrigin
	}
	opts := wsconn.UpgradeOptions{
		AcceptOptions: wsconn.AcceptOptions{
			Compression:          s.settings.compress,
			CompressionThreshold: s.settings.threshold,
			CheckOrigin:          checkOrigin,
			Subprotocols:         s.Subprotocols,
			Header:               s.Header,
			WriteBufferSize:      s.settings.fragment,
		},
		HandshakeTimeout: orDur(s.HandshakeTimeout, 10*time.Second),
	}
	if s.SelectSubprotocol != nil {
		offered := wsconn.HeaderTokens(r.Header, "Sec-WebSocket-Protocol")
		chosen := s.SelectSubprotocol(r, offered)
		if chosen != "" && !contains(offered, chosen) {
			err := fmt.Errorf("ws: SelectSubprotocol chose %q, which the client did not offer (%q)", chosen, offered)
			http.Error(w, "no acceptable subprotocol", http.StatusBadRequest)
			s.reportHandshake(err)
			return
		}
		opts.Subprotocol = chosen
		opts.Subprotocols = nil
	}
	wc, err := wsconn.Upgrade(w, r, opts)
	if err != nil {
		s.reportHandshake(err)
		return
	}
	c := newConn(wc, s.settings)
	c.srv = s
	c.path = r.URL.Path
	c.header = r.Header
	if !s.add(c) {
		_ = wc.Close(CloseGoingAway, "server shutting down")
		return
	}
	// The connection gets its own goroutine and this one returns, so that
	// net/http frees the request's buffers (some 10 KiB) while the
	// connection lives on.
	handedOff = true
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
}

func (s *Server) reportHandshake(err error) {
	if s.settings.OnError != nil {
		s.settings.OnError(nil, err)
	}
}

func (s *Server) add(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) remove(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Connections returns the open connections at the time of the call.
func (s *Server) Connections() []*Conn {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// BroadcastText queues a text message to every open connection and
// returns how many accepted it. The frame is encoded once (once more if
// some connections compress) and shared by all.
func (s *Server) BroadcastText(text []byte) int { return s.broadcast(Text, text) }

// BroadcastBinary queues a binary message to every open connection; see
// BroadcastText.
func (s *Server) BroadcastBinary(data []byte) int { return s.broadcast(Binary, data) }

func (s *Server) broadcast(typ MessageType, p []byte) int {
	conns := s.Connections()
	if len(conns) == 0 {
		return 0
	}
	pm, err := wsconn.NewPrepared(wsconn.MessageType(typ), append([]byte(nil), p...))
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range conns {
		if c.enqueue(outgoing{typ: typ, prepared: pm, n: len(p)}) == nil {
			n++
		}
	}
	return n
}

// ListenAndServe listens on the TCP address addr and serves WebSocket
// connections on every path. It returns ErrServerClosed after Shutdown.
//
// The HTTP server it runs reads a handshake request under
// HandshakeTimeout, closes a keep-alive connection after 6 s without a
// next request (a client may send plain requests first, and each would
// otherwise hold a descriptor for good), and answers 431 to a request
// head over 16 KiB: the limits of sockio.Serve.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	return s.Serve(l)
}

// Serve serves WebSocket connections accepted on l; see ListenAndServe.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	hs := &http.Server{Handler: s, ReadHeaderTimeout: orDur(s.HandshakeTimeout, 10*time.Second)}
	fastaccept.SetDefaults(hs) // IdleTimeout and MaxHeaderBytes
	s.mu.Lock()
	if s.shutdown || s.http != nil {
		s.mu.Unlock()
		_ = l.Close()
		if s.http != nil {
			return errors.New("ws: Serve called twice")
		}
		return ErrServerClosed
	}
	s.http = hs
	s.mu.Unlock()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting connections, sends every peer a close frame
// with 1001 (going away), and waits until all connections have ended or
// ctx is done; then it closes those left at once and returns ctx's error
// without waiting for their OnClose.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.shutdown = true
	hs := s.http
	s.mu.Unlock()
	if hs != nil {
		_ = hs.Close() // the listener; hijacked connections are ours
	}
	for _, c := range s.Connections() {
		_ = c.Close(CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range s.Connections() {
			_ = c.wc.CloseNow()
		}
		return fmt.Errorf("failed to close connections gracefully: %w", ctx.Err())
	}
}

// sameOrigin accepts requests without an Origin and those from the page's
// own host, as browsers send Origin on every WebSocket handshake.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
