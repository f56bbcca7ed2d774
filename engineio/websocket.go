package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/internal/wsconn"
)

// heads holds the one-byte text prefix of each packet type, so writing a
// text packet needs no concatenation.
var heads = [...][]byte{{'0'}, {'1'}, {'2'}, {'3'}, {'4'}, {'5'}, {'6'}}

var probe = []byte("probe")

// accept upgrades r to a websocket; greeting, if not nil, is its first
// text message, sent with the handshake response.
func (srv *Server) accept(w http.ResponseWriter, r *http.Request, header http.Header, greeting []byte) (*wsconn.Conn, error) {
	opts := wsconn.AcceptOptions{
		ReadLimit: srv.opts.MaxHTTPBufferSize,
		Header:    header,
		Greeting:  greeting,
	}
	if d := srv.opts.PerMessageDeflate; d != nil {
		opts.Compression = true
		opts.CompressionThreshold = d.Threshold
	}
	return wsconn.Accept(w, r, opts)
}

// idleHandoff is how long a websocket goes without a byte before its
// reading goroutine hands the wait to the poller or, without one, to a
// fresh goroutine (see wsconn.ErrIdle): an idle connection then holds no
// stack, or a 2 KiB one instead of 4 KiB or more.
const idleHandoff = time.Second

// watchWebSocket starts reading ws. A session whose handler never blocks
// is read from a shared poller (onReadable), so an idle connection holds
// no goroutine; otherwise, or where there is no poller, it gets a reading
// goroutine of its own. Bytes already buffered (an upgrade's probe may
// leave some) go to the goroutine too: Watch refuses them, as the poller
// only hears of new ones.
func (s *Session) watchWebSocket(ws *wsconn.Conn) {
	s.mu.Lock()
	_, nonBlocking := s.handler.(NonBlockingHandler)
	s.mu.Unlock()
	if nonBlocking && ws.Watch(func() { s.onReadable(ws) }) == nil {
		return
	}
	go s.readWebSocket(ws)
}

// onReadable is the poller's callback: it delivers the messages that the
// bytes there now complete, without waiting for anything; the start of a
// message that fits the read buffer waits there for the rest. What would
// wait (a larger message, a control frame to answer, a failure to report,
// a handler that asked for a pause) goes to a reading goroutine, which
// hands the connection back once it is idle.
func (s *Session) onReadable(ws *wsconn.Conn) {
	// The reading goroutine hands the connection back before it watches
	// it (readWebSocket), so this never waits; should it find a reader
	// still there, the level-triggered poller calls again.
	if !s.readMu.TryLock() {
		return
	}
	defer s.readMu.Unlock()
	if ws.FillNow() {
		for !s.paused.Load() {
			typ, data, ok := ws.ReadBuffered()
			if !ok {
				break
			}
			p, err := s.decodeFrame(typ, data)
			if err != nil {
				ws.Unwatch()
				go s.closeOnReadError(err) // it writes a close frame
				return
			}
			if !s.onPacket(p) {
				ws.Unwatch()
				return
			}
		}
		if !ws.NeedsReader() && !s.paused.Load() {
			return
		}
	}
	ws.Unwatch()
	go s.readWebSocket(ws)
}

// readWebSocket is a websocket's reading goroutine: it reads packets until
// the connection or the session ends. It waits for bytes in a shallow call
// (WaitData), so a goroutine parked there fits the minimum stack; after an
// idle spell the wait goes back to the poller, or to a fresh goroutine
// (see idleHandoff).
func (s *Session) readWebSocket(ws *wsconn.Conn) {
	s.readMu.Lock()
	idle := s.readLoop(ws)
	s.readMu.Unlock()
	if idle {
		s.watchWebSocket(ws)
	}
}

// readLoop reads packets until the connection or the session ends, or
// until the connection is idle (then it reports true).
func (s *Session) readLoop(ws *wsconn.Conn) (idle bool) {
	ws.ReturnWhenIdle(idleHandoff)
	for {
		s.waitWhilePaused()
		err := ws.WaitData()
		if errors.Is(err, wsconn.ErrIdle) {
			return true
		}
		var p packet.Packet
		if err == nil {
			p, err = s.readPacket(ws)
		}
		if err != nil {
			s.closeOnReadError(err)
			return
		}
		if !s.onPacket(p) {
			return
		}
	}
}

func (s *Session) readPacket(ws *wsconn.Conn) (packet.Packet, error) {
	typ, data, err := ws.Read()
	if err != nil {
		return packet.Packet{}, err
	}
	return s.decodeFrame(typ, data)
}

func decodePacket(typ wsconn.MessageType, data []byte) (packet.Packet, error) {
	if typ == wsconn.Binary {
		return packet.DecodeBinary(data), nil
	}
	p, err := packet.DecodeText(data)
	if err != nil {
		return p, &parseError{err}
	}
	return p, nil
}

type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// closeOnReadError ends the session after a failed read, with the
// reference's reason for that kind of failure.
func (s *Session) closeOnReadError(err error) {
	var pe *parseError
	switch {
	case errors.As(err, &pe):
		s.finish(ReasonParseError, err, packet.Close)
	case errors.Is(err, wsconn.ErrMessageTooBig):
		s.finish(ReasonTransportError, ErrPayloadTooLarge, packet.Close)
	case wsconn.CloseCode(err) >= 0, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		s.finish(ReasonTransportClose, nil, packet.Close)
	default:
		s.finish(ReasonTransportError, err, packet.Close)
	}
}

// flushWebSocket drains the queue onto ws until it is empty, for a
// connection the flusher cannot serve (see wsconn.ErrCannotTry). Only one
// writer runs per session (s.flushing), so sends never wait for the network.
func (s *Session) flushWebSocket(ws *wsconn.Conn) {
	if err := s.flushWith(func(pkts []frame) error { return s.writeWebSocket(ws, pkts) }); err != nil {
		s.finishOnWriteError(err)
	}
}

// switchTransport moves a polling session onto its probed transport once
// the client sent the upgrade packet; set installs the transport, under
// the session's locks. It reports false when the session closed
// meanwhile (the caller drops the probe). A closing session upgrades too,
// as in the reference: what it still has to send (its close included)
// then goes out on the new transport instead of waiting for a poll that
// will not come.
func (s *Session) switchTransport(transport string, set func()) bool {
	s.postMu.Lock() // a POST delivering now finishes first
	defer s.postMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed {
		return false
	}
	s.transport = transport
	s.srv.stats.upgrades.Add(1)
	set()
	s.upgrading, s.probed = false, false
	s.upgradeInHand.Store(false)
	s.wakePollLocked()
	s.kickLocked()
	if s.state == stateClosing && !s.flushing {
		go s.finish("", nil, packet.Close)
	}
	return true
}

// flushWith drains the queue with write until it is empty or a write
// fails (its error is returned, the session's writer released). Only one
// writer runs per session (s.flushing), so sends never wait for the
// network.
func (s *Session) flushWith(write func(pkts []frame) error) error {
	for {
		s.mu.Lock()
		_, pkts, more := s.takeForFlushLocked()
		s.mu.Unlock()
		if !more {
			return nil
		}
		err := write(pkts)
		if err == nil {
			s.srv.stats.sent(pkts)
		}
		s.mu.Lock()
		s.giveBackLocked(pkts)
		if err != nil {
			s.flushing = false
		}
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// writeWebSocket writes a batch of queued packets, in one system call
// when the connection allows it.
func (s *Session) writeWebSocket(ws *wsconn.Conn, pkts []frame) error {
	var small [16]wsconn.Frame
	return ws.WriteFrames(s.appendFrames(small[:0], pkts), time.Now().Add(s.srv.opts.WriteTimeout))
}

func appendFrames(frames []wsconn.Frame, pkts []frame) []wsconn.Frame {
	for _, p := range pkts {
		if p.Binary {
			frames = append(frames, wsconn.Frame{Type: wsconn.Binary, Body: p.Data, NoCompress: p.noCompress})
		} else {
			frames = append(frames, wsconn.Frame{Type: wsconn.Text, Head: heads[p.Type], Body: p.Data, NoCompress: p.noCompress})
		}
	}
	return frames
}

// upgrade runs the probe on a websocket opened for a polling session and,
// on the client's upgrade packet, moves the session onto it.
func (s *Session) upgrade(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse := s.state != stateOpen || s.transport != Polling || s.upgrading || s.srv.opts.DisableUpgrades
	if !refuse {
		s.upgrading = true
	}
	s.mu.Unlock()

	var header http.Header
	if s.srv.hasHeaderHooks() && !refuse {
		header = http.Header{}
		s.srv.applyHeaders(header, r, false)
	}
	ws, err := s.srv.accept(w, r, header, nil)
	if err != nil {
		if !refuse {
			s.endUpgrade(nil)
		}
		return
	}
	if refuse {
		// Accepted, then closed: the reference does not leave it dangling.
		_ = ws.Close(wsconn.CloseNoStatus, "")
		return
	}
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		_ = ws.CloseNow()
		return
	}
	s.probeWS = ws
	s.mu.Unlock()

	// CloseNow: a graceful close could wait behind a blocked probe reply.
	timeout := time.AfterFunc(s.srv.opts.UpgradeTimeout, func() { _ = ws.CloseNow() })
	defer timeout.Stop()
	for {
		if hook := s.srv.opts.hooks; hook != nil && hook.upgradeRead != nil {
			hook.upgradeRead(s)
		}
		p, err := s.readPacket(ws)
		// Read, not handled yet: a GET coming now came after p (order.go).
		s.upgradeInHand.Store(true)
		if err != nil {
			s.endUpgrade(ws)
			return
		}
		if hook := s.srv.opts.hooks; hook != nil && hook.upgradePacket != nil {
			hook.upgradePacket(p)
		}
		switch {
		case p.Type == packet.Ping && string(p.Data) == string(probe):
			_ = ws.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
			if err := ws.Write(wsconn.Text, heads[packet.Pong], probe, false); err != nil {
				s.endUpgrade(ws)
				return
			}
			// The pending poll is let go by the upgrade check, not now:
			// the reference waits for its check interval (see order.go).
			s.mu.Lock()
			s.probed = true
			s.upgradeInHand.Store(false)
			s.startUpgradeCheckLocked()
			s.mu.Unlock()
			if hook := s.srv.opts.hooks; hook != nil && hook.probed != nil {
				hook.probed(s)
			}
		case p.Type == packet.Upgrade:
			if !timeout.Stop() {
				// The timeout fired as the packet came: ws is closed, or about
				// to be; switching to it would leave the session unread.
				s.endUpgrade(ws)
				return
			}
			if !s.switchTransport(WebSocket, func() {
				s.ws, s.probeWS = ws, nil
				if s.eio3 != nil {
					s.eio3.wsB64 = askedBase64(r.URL.Query()) // the websocket's own request decides
				}
			}) {
				s.endUpgrade(ws)
				return
			}
			s.watchWebSocket(ws) // and return, as after a direct handshake
			return
		default:
			// Anything else during the probe fails the upgrade, not the session.
			s.endUpgrade(ws)
			return
		}
	}
}

// endUpgrade abandons an upgrade; the session goes on over polling.
func (s *Session) endUpgrade(ws *wsconn.Conn) {
	s.srv.stats.upgradeFailed.Add(1)
	s.mu.Lock()
	s.upgrading, s.probed = false, false
	s.upgradeInHand.Store(false)
	s.pollLate = false // a held poll becomes an ordinary one
	s.wakePollLocked()
	if s.probeWS == ws {
		s.probeWS = nil
	}
	s.mu.Unlock()
	if ws != nil {
		_ = ws.Close(wsconn.CloseNoStatus, "")
	}
}

func wsconnIsUpgrade(r *http.Request) bool { return wsconn.IsUpgrade(r) }
