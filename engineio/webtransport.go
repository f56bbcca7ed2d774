package engineio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

// WebTransport is the transport name of Engine.IO over a WebTransport
// session (HTTP/3). List it in Options.Transports to offer it, and serve
// the sessions with ServeWebTransport (package engineio/webtransport does
// it for quic-go's webtransport-go); this package does not link QUIC.
const WebTransport = "webtransport"

// WebTransportSession is an accepted WebTransport session, as a QUIC
// library gives it.
type WebTransportSession interface {
	// AcceptStream waits for the client's next bidirectional stream.
	AcceptStream(ctx context.Context) (WebTransportStream, error)
	// Close ends the session (and its streams) at once.
	Close() error
}

// WebTransportStream is the bidirectional stream that carries an
// Engine.IO session: length-prefixed packets (see packet.StreamReader).
type WebTransportStream interface {
	io.Reader
	io.Writer
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	// Close ends the write side (FIN): what was written is still delivered.
	Close() error
}

// wtLinger is how long a session closed by the server keeps its
// WebTransport session after sending FIN, so that the last packets (a
// Socket.IO disconnect, say) reach the client before the session's end
// resets the stream. Clients close the session themselves on those
// packets, which ends the wait earlier.
const wtLinger = time.Second

// ServeWebTransport serves a WebTransport CONNECT request to the Engine.IO
// path, as the reference's onWebTransportSession: the request passes the
// checks of a handshake (origin, AllowRequest, a transport list that has
// WebTransport, a server not draining), or is refused with their HTTP
// error before upgrade is called. upgrade accepts the session (writes the
// 200). Then, within UpgradeTimeout, the client opens a bidirectional
// stream and sends an open packet on it: without data, a new session on
// this transport; with {"sid":"…"}, the upgrade of that polling session
// (probe, then upgrade packet, as for a websocket). Anything else closes
// the WebTransport session. ServeWebTransport returns once upgrade has;
// the session is served on goroutines of its own.
func (srv *Server) ServeWebTransport(w http.ResponseWriter, r *http.Request, upgrade func() (WebTransportSession, error)) {
	if srv.checkHead(w, r) {
		return
	}
	if !srv.origins.allowed(r) {
		writeError(w, CodeForbidden, "")
		return
	}
	if !srv.opts.allows(WebTransport) {
		writeError(w, CodeUnknownTransport, "")
		return
	}
	if err := srv.allowRequest(r); err != nil {
		writeError(w, CodeForbidden, err.Error())
		return
	}
	if srv.draining.Load() || srv.isClosed() {
		srv.stats.drainRefused.Add(1)
		w.Header().Set("Retry-After", "1")
		writeErrorStatus(w, http.StatusServiceUnavailable, CodeBadRequest, "Server draining")
		return
	}
	hs := Handshake{
		Header:     keepValues(r.Header, srv.opts.MaxHeaderBytes, keptHeaders),
		Query:      keepValues(r.URL.Query(), srv.opts.MaxURLBytes, keptQuery),
		RemoteAddr: r.RemoteAddr,
		Host:       r.Host,
		URL:        requestURI(r),
		Secure:     true, // HTTP/3 is always TLS
		Time:       time.Now(),
		Context:    context.WithoutCancel(r.Context()),
	}
	sess, err := upgrade()
	if err != nil {
		writeError(w, CodeBadRequest, "")
		return
	}
	go srv.serveWebTransportSession(sess, hs)
}

// wtConn is a WebTransport session and the stream that carries packets.
type wtConn struct {
	sess WebTransportSession
	st   WebTransportStream
	rd   *packet.StreamReader
	once sync.Once
	wbuf []byte // the writer's; only the one flushing goroutine uses it
}

// closeGracefully sends FIN and ends the session after wtLinger.
func (c *wtConn) closeGracefully() {
	c.once.Do(func() {
		_ = c.st.Close()
		time.AfterFunc(wtLinger, func() { _ = c.sess.Close() })
	})
}

// closeNow ends the session at once.
func (c *wtConn) closeNow() {
	c.once.Do(func() {})
	_ = c.sess.Close()
}

// serveWebTransportSession waits for the client's stream and first packet.
func (srv *Server) serveWebTransportSession(sess WebTransportSession, hs Handshake) {
	deadline := time.Now().Add(srv.opts.UpgradeTimeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	st, err := sess.AcceptStream(ctx)
	cancel()
	if err != nil {
		_ = sess.Close()
		return
	}
	c := &wtConn{sess: sess, st: st, rd: packet.NewStreamReader(st, srv.opts.MaxHTTPBufferSize)}
	_ = st.SetReadDeadline(deadline)
	p, err := c.rd.Next()
	_ = st.SetReadDeadline(time.Time{})
	if err != nil || p.Type != packet.Open {
		c.closeNow()
		return
	}
	if len(p.Data) == 0 {
		srv.handshakeWebTransport(c, hs)
		return
	}
	var open struct {
		SID string `json:"sid"`
	}
	if json.Unmarshal(p.Data, &open) != nil || open.SID == "" {
		c.closeNow()
		return
	}
	s := srv.Session(open.SID)
	if s == nil {
		c.closeNow()
		return
	}
	s.upgradeWebTransport(c)
}

// handshakeWebTransport opens a session on c: the open packet is its first
// packet, with no upgrades (there is nothing better).
func (srv *Server) handshakeWebTransport(c *wtConn, hs Handshake) {
	s := &Session{id: srv.newID(), srv: srv, transport: WebTransport, hs: hs, wt: c}
	open := srv.appendOpen(make([]byte, 0, 160), s.id, false)
	s.queue = append(s.queue, frame{Packet: packet.Packet{Type: packet.Open, Data: open}})
	s.timerAt = time.Now().Add(srv.opts.PingInterval)
	s.timer = time.AfterFunc(srv.opts.PingInterval, s.onTimer)
	if !srv.add(s) {
		s.timer.Stop()
		c.closeNow()
		return
	}
	srv.stats.opened[transportIndex(WebTransport)].Add(1)
	if srv.onConn != nil {
		srv.onConn(s)
	}
	s.mu.Lock()
	s.kickLocked()
	s.mu.Unlock()
	s.readWebTransport(c)
}

// upgradeWebTransport runs the probe on c for a polling session and, on
// the client's upgrade packet, moves the session onto it; the rules are
// those of the websocket upgrade (websocket.go).
func (s *Session) upgradeWebTransport(c *wtConn) {
	s.mu.Lock()
	refuse := s.state != stateOpen || s.transport != Polling || s.upgrading || s.srv.opts.DisableUpgrades || s.eio3 != nil
	if !refuse {
		s.upgrading = true
		s.probeWT = c
	}
	s.mu.Unlock()
	if refuse {
		c.closeNow()
		return
	}
	fail := func() {
		s.mu.Lock()
		if s.probeWT == c {
			s.probeWT = nil
		}
		s.mu.Unlock()
		s.endUpgrade(nil)
		c.closeNow()
	}
	timeout := time.AfterFunc(s.srv.opts.UpgradeTimeout, c.closeNow)
	defer timeout.Stop()
	for {
		p, err := c.rd.Next()
		s.upgradeInHand.Store(true)
		if err != nil {
			fail()
			return
		}
		switch {
		case p.Type == packet.Ping && string(p.Data) == string(probe):
			c.wbuf = packet.AppendStreamFrame(c.wbuf[:0], packet.Packet{Type: packet.Pong, Data: probe})
			_ = c.st.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
			if _, err := c.st.Write(c.wbuf); err != nil {
				fail()
				return
			}
			s.mu.Lock()
			s.probed = true
			s.upgradeInHand.Store(false)
			s.startUpgradeCheckLocked()
			s.mu.Unlock()
		case p.Type == packet.Upgrade:
			if !timeout.Stop() {
				fail()
				return
			}
			if !s.switchTransport(WebTransport, func() { s.wt, s.probeWT = c, nil }) {
				fail()
				return
			}
			s.readWebTransport(c)
			return
		default:
			fail()
			return
		}
	}
}

// readWebTransport reads packets until the stream or the session ends.
// A QUIC stream read blocks its goroutine; WebTransport sessions are few
// next to websockets, so they get no poller.
func (s *Session) readWebTransport(c *wtConn) {
	for {
		s.waitWhilePaused()
		p, err := c.rd.Next()
		if err != nil {
			s.closeOnStreamError(c, err)
			return
		}
		if !s.onPacket(p) {
			return
		}
	}
}

// closeOnStreamError ends the session after a failed read, with the
// reason the reference gives that kind of failure.
func (s *Session) closeOnStreamError(c *wtConn, err error) {
	switch {
	case errors.Is(err, packet.ErrFrameTooLarge):
		s.finish(ReasonTransportError, ErrPayloadTooLarge, packet.Close)
	case errors.Is(err, packet.ErrEmpty), errors.Is(err, packet.ErrUnknownType), errors.Is(err, packet.ErrBadBase64):
		s.finish(ReasonParseError, err, packet.Close)
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.finish(ReasonTransportError, err, packet.Close)
	default:
		// The client closed its session or stream: it left.
		s.finish(ReasonTransportClose, nil, packet.Close)
	}
	c.closeNow()
}

// flushWebTransport drains the queue onto c's stream (see flushWith).
func (s *Session) flushWebTransport(c *wtConn) {
	err := s.flushWith(func(pkts []frame) error {
		c.wbuf = c.wbuf[:0]
		for _, p := range pkts {
			c.wbuf = packet.AppendStreamFrame(c.wbuf, p.Packet)
		}
		_ = c.st.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
		_, err := c.st.Write(c.wbuf)
		if cap(c.wbuf) > streamBufKeep {
			c.wbuf = nil // after a large message: an idle session keeps little
		}
		return err
	})
	if err != nil {
		s.finish(ReasonTransportError, err, packet.Close)
		c.closeNow()
	}
}

// streamBufKeep bounds the write buffer a session keeps between flushes.
const streamBufKeep = 64 << 10
