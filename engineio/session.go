package engineio

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/internal/wsconn"
)

// Handler receives a session's events. The engine calls OnMessage from one
// goroutine at a time, in arrival order; a handler that blocks holds up the
// session's reads (and so its heartbeat), so it should hand work off; over
// polling it also holds back the pending poll, which waits for the POST.
// A NonBlockingHandler must never block: it would hold up every session
// read by the same poller.
type Handler interface {
	// OnMessage is called for each message packet. data is only valid
	// during the call.
	OnMessage(data []byte, binary bool)
	// OnClose is called once, when the session ends, with the reference's
	// reason ("transport close", "ping timeout", ...) and the cause if any.
	OnClose(reason string, err error)
}

// NonBlockingHandler is a Handler whose OnMessage never waits: it hands
// its work off, and calls Session.PauseReading instead of blocking when it
// falls behind. Its websocket sessions are read from a few shared poller
// goroutines instead of one goroutine each, which saves an idle
// connection's goroutine stack and a system call per message.
type NonBlockingHandler interface {
	Handler
	// NonBlocking marks the promise; it is never called.
	NonBlocking()
}

// Handshake describes the request that opened a session.
type Handshake struct {
	// Header is a copy of the request's header fields, bounded by
	// Options.MaxHeaderBytes (each field counted with what it costs to
	// keep): the fields applications read (Cookie, Authorization,
	// User-Agent, Origin, Referer, the X-Forwarded ones, Accept-Language)
	// are kept first, then the others in name order, each whole or not at
	// all. Only a head near the limit or of very many fields loses some.
	Header http.Header
	// Query is a copy of the request's query, bounded the same way by
	// Options.MaxURLBytes.
	Query      url.Values
	RemoteAddr string
	Host       string
	URL        string
	Secure     bool
	Time       time.Time
	// Context is the request's context without its cancellation (the
	// request ends long before the session): what HTTP middleware put in
	// it, an authenticated user say, reaches the session and its sockets.
	Context context.Context
}

type state uint8

const (
	stateOpen state = iota
	stateClosing
	stateClosed
)

// Session is one Engine.IO connection, whatever its transport.
type Session struct {
	id  string
	srv *Server
	hs  Handshake

	mu        sync.Mutex
	state     state
	transport string
	handler   Handler

	// postMu is held while a POST delivers its packets, and by an upgrade
	// while it switches the transport: the Handler then never sees a POST
	// and the websocket at once, and a POST still running when the switch
	// comes ends before the websocket's first packet. Lock order: postMu,
	// then mu. A POST whose Handler paused it (PauseReading) holds the
	// upgrade back with it; clients send the upgrade packet only after
	// their POST was answered, so only a non-standard one can meet that.
	postMu sync.Mutex

	// The send queue, shared by both transports so that a transport switch
	// neither loses nor repeats a packet. spare is the drained slice, kept
	// to avoid an allocation per flush.
	queue       []frame
	spare       []frame
	queuedBytes int
	// replayPkts and replayBytes widen the queue's bounds by what was
	// queued with SendOptions.Replay, until the queue is next taken.
	replayPkts, replayBytes int

	poll        chan struct{} // non-nil while a GET is pending
	pollFinal   packet.Type   // answer to a pending GET once the session is closed
	posting     func()        // non-nil while a POST is served; calling it aborts its body read
	postReading bool          // that POST is reading its body: finish aborts it
	delivering  bool          // a POST is handing its packets over (see deliverPost)

	ws       *wsconn.Conn
	wt       *wtConn // the WebTransport stream (webtransport.go)
	flushing bool    // a websocket writer goroutine is draining the queue

	upgrading bool          // a websocket is probing
	probed    bool          // it sent 2probe: the upgrade check runs
	probeWS   *wsconn.Conn  // the probing websocket, closed with the session
	probeWT   *wtConn       // the probing WebTransport stream, likewise
	checkGen  uint32        // the running upgrade check's (see order.go)
	noopPoll  chan struct{} // the poll the upgrade check lets go with a noop
	pollLate  bool          // the pending poll came after the upgrade packet (order.go)
	// upgradeInHand: the upgrade has read a packet it has not handled yet.
	upgradeInHand atomic.Bool
	pollSince     time.Time // when the pending poll came
	linger        bool      // closed by a POSTed close with no poll pending

	timer        *time.Timer // heartbeat, then the close-flush deadline
	timerAt      time.Time   // when the timer is due; an earlier fire is stale
	awaitingPong bool

	closeReason string
	closeErr    error
	done        chan struct{} // made by Done; under mu

	eio3 *eio3Session // a protocol 3 client's (Options.AllowEIO3); nil for protocol 4

	paused atomic.Bool // PauseReading: deliver no more messages
	// readMu is held by whoever reads the websocket: the poller's
	// onReadable or a reading goroutine. They take turns by design; the
	// lock makes each turn see the last one's writes to the connection's
	// read state (the hand-over through the epoll set is invisible to the
	// Go memory model and the race detector).
	readMu  sync.Mutex
	resumed chan struct{} // under mu: closed by ResumeReading or finish
}

// ID is the session id (the Engine.IO sid).
func (s *Session) ID() string { return s.id }

// Handshake returns the request data that opened the session.
func (s *Session) Handshake() *Handshake { return &s.hs }

// Transport is the current transport name.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// SetHandler sets the receiver of the session's events. Call it from the
// server's OnConnection callback, before any message can arrive.
func (s *Session) SetHandler(h Handler) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		// Made on demand: most sessions are never waited on, and an idle
		// connection's every byte counts.
		if s.state == stateClosed {
			return closedChan
		}
		s.done = make(chan struct{})
	}
	return s.done
}

// closedChan is what Done returns for a session that ended before anyone asked.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// SendOptions modify how packets are sent.
type SendOptions struct {
	// NoCompress sends without WebSocket compression.
	NoCompress bool
	// Replay marks packets whose number and size another bound already
	// limits, such as the events connection-state recovery replays (the
	// recovery log's): they are queued beyond MaxBufferedPackets and
	// MaxBufferedBytes, which apply again from the next time the queue is
	// handed to the transport. Without it, a client that missed more
	// events than the queue holds would be closed as a slow consumer
	// while being recovered, and its session lost.
	Replay bool
}

// frame is a queued packet with its send options.
type frame struct {
	packet.Packet
	noCompress bool
}

// Send queues packets for the client, in order and atomically (the
// attachments of a binary Socket.IO packet stay together). Data slices are
// not copied and must not change afterwards: one broadcast shares them.
func (s *Session) Send(opts SendOptions, pkts ...packet.Packet) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	if opts.Replay {
		s.replayPkts += len(pkts)
		for _, p := range pkts {
			s.replayBytes += len(p.Data) + 1
		}
	}
	if !s.fits(pkts) {
		// No flush: the queue is what the client failed to take. Closing
		// from now on (later sends fail), finished on a goroutine: the
		// caller may be a poller (a handler's OnMessage), which must not
		// wait for the close frame.
		s.state = stateClosing
		s.closeReason, s.closeErr = ReasonSlowConsumer, ErrQueueFull
		s.mu.Unlock()
		go s.finish(ReasonSlowConsumer, ErrQueueFull, packet.Close)
		return ErrQueueFull
	}
	s.enqueueLocked(opts, pkts...)
	s.mu.Unlock()
	return nil
}

// SendVolatile queues packets only if the transport can take them right
// now, as the reference does for volatile emits; it reports whether it did.
func (s *Session) SendVolatile(opts SendOptions, pkts ...packet.Packet) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || !s.writableLocked() || !s.fits(pkts) {
		s.srv.stats.volatileDropped.Add(1)
		return false
	}
	s.enqueueLocked(opts, pkts...)
	return true
}

// Close ends the session after flushing what is queued, with reason
// "forced close".
func (s *Session) Close() { s.CloseWithReason(ReasonForcedClose) }

// CloseWithReason ends the session after flushing what is queued.
func (s *Session) CloseWithReason(reason string) {
	s.mu.Lock()
	s.closeLocked(reason, nil)
	s.mu.Unlock()
}

// shutdown closes the session for a server that is going away: a polling
// session with no poll pending ends at once, as with the reference (its
// client may never poll again); the others flush what they have first.
func (s *Session) shutdown(reason string) {
	s.mu.Lock()
	if s.transport == Polling && s.poll == nil && s.state == stateOpen {
		s.mu.Unlock()
		s.finish(reason, nil, packet.Close)
		return
	}
	s.closeLocked(reason, nil)
	s.mu.Unlock()
}

func (s *Session) writableLocked() bool {
	switch s.transport {
	case Polling:
		return s.poll != nil && len(s.queue) == 0
	default:
		return !s.flushing
	}
}

func (s *Session) fits(pkts []packet.Packet) bool {
	n := 0
	for _, p := range pkts {
		n += len(p.Data) + 1
	}
	o := &s.srv.opts
	return len(s.queue)+len(pkts) <= o.MaxBufferedPackets+s.replayPkts && s.queuedBytes+n <= o.MaxBufferedBytes+s.replayBytes
}

func (s *Session) enqueueLocked(opts SendOptions, pkts ...packet.Packet) {
	for _, p := range pkts {
		s.queuedBytes += len(p.Data) + 1
		s.queue = append(s.queue, frame{p, opts.NoCompress})
	}
	s.kickLocked()
}

// kickLocked gets queued packets moving on the current transport.
func (s *Session) kickLocked() {
	switch s.transport {
	case Polling:
		s.wakePollLocked()
	case WebSocket:
		if !s.flushing && len(s.queue) > 0 && s.ws != nil {
			s.flushing = true
			if s.ws.CanTryWrite() {
				s.srv.flusher.add(s)
			} else {
				go s.flushWebSocket(s.ws)
			}
		}
	case WebTransport:
		if !s.flushing && len(s.queue) > 0 && s.wt != nil {
			s.flushing = true
			go s.flushWebTransport(s.wt)
		}
	}
}

func (s *Session) wakePollLocked() {
	if s.poll != nil {
		select {
		case s.poll <- struct{}{}:
		default:
		}
	}
}

// takeLocked hands the queued packets to a writer and resets the queue.
// The caller returns the slice with giveBack.
func (s *Session) takeLocked() []frame {
	pkts := s.queue
	s.queue = s.spare[:0]
	s.spare = nil
	s.queuedBytes = 0
	s.replayPkts, s.replayBytes = 0, 0
	return pkts
}

func (s *Session) giveBackLocked(pkts []frame) {
	clear(pkts) // drop references to shared payloads
	// A closed session keeps nothing: someone may hold it long after.
	if s.spare == nil && cap(pkts) <= 1024 && s.state != stateClosed {
		s.spare = pkts[:0]
	}
}

// closeLocked starts a graceful close: the queue is flushed (on polling it
// ends with a close packet) and then the session is finished.
func (s *Session) closeLocked(reason string, err error) {
	if s.state != stateOpen {
		return
	}
	s.state = stateClosing
	s.closeReason, s.closeErr = reason, err
	s.awaitingPong = false
	switch s.transport {
	case Polling:
		s.queue = append(s.queue, frame{Packet: packet.Packet{Type: packet.Close}})
		s.wakePollLocked()
		// A client that never polls again must not hold the session.
		s.resetTimerLocked(s.srv.opts.PingTimeout)
	case WebSocket, WebTransport:
		if !s.flushing {
			go s.finish(reason, err, packet.Close)
		}
		// Otherwise the writer finishes the session once the queue is empty.
	}
}

// finish ends the session at once: no more flushing.
func (s *Session) finish(reason string, err error, pollAnswer packet.Type) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	if s.state == stateClosing && s.closeReason != "" {
		reason, err = s.closeReason, s.closeErr
	}
	s.state = stateClosed
	s.srv.stats.closed[closeReasonIndex(reason)].Add(1)
	s.pollFinal = pollAnswer
	s.timer.Stop()
	s.resumeLocked() // a paused reader goes on, to find the end
	ws, probe, h, done, linger := s.ws, s.probeWS, s.handler, s.done, s.linger
	wt, probeWT := s.wt, s.probeWT
	if s.postReading {
		// A POST still reading its body would else hold its connection
		// until the body's deadline, long after its session. Under mu, so
		// that it is still reading: a connection that has moved on to its
		// next request must not be cut.
		s.posting()
	}
	s.wakePollLocked()
	clear(s.queue)
	s.queue, s.spare, s.queuedBytes = nil, nil, 0
	s.mu.Unlock()

	s.srv.remove(s)
	if linger {
		s.srv.linger(s)
	}
	if ws != nil {
		_ = ws.Close(wsconn.CloseNoStatus, "")
	}
	if probe != nil {
		_ = probe.CloseNow()
	}
	if wt != nil {
		wt.closeGracefully()
	}
	if probeWT != nil {
		probeWT.closeNow()
	}
	if done != nil {
		close(done)
	}
	if h != nil {
		h.OnClose(reason, err)
	}
}

// PauseReading stops the delivery of the client's messages until
// ResumeReading: called from OnMessage, after the message being delivered;
// from elsewhere, after at most one more. Meanwhile the peer is pushed
// back by TCP flow control (or its POST waits). A Handler that cannot keep
// up calls it instead of blocking in OnMessage. Heartbeats are not read
// either, so a handler should not stay paused for a whole ping timeout.
func (s *Session) PauseReading() {
	s.mu.Lock()
	if s.resumed == nil && s.state != stateClosed {
		s.resumed = make(chan struct{})
		s.paused.Store(true)
	}
	s.mu.Unlock()
}

// ResumeReading undoes PauseReading.
func (s *Session) ResumeReading() {
	s.mu.Lock()
	s.resumeLocked()
	s.mu.Unlock()
}

func (s *Session) resumeLocked() {
	if s.resumed != nil {
		s.paused.Store(false)
		close(s.resumed)
		s.resumed = nil
	}
}

// waitWhilePaused returns once reading is not paused.
func (s *Session) waitWhilePaused() {
	if !s.paused.Load() {
		return
	}
	s.mu.Lock()
	ch := s.resumed
	s.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// onTimer drives the heartbeat: send a ping, then expect a pong in time.
func (s *Session) onTimer() {
	s.mu.Lock()
	if time.Now().Before(s.timerAt) {
		s.mu.Unlock()
		return // stale: re-armed after this fire was scheduled
	}
	switch {
	case s.state == stateClosing:
		s.mu.Unlock()
		s.finish("", nil, packet.Close)
		return
	case s.state == stateClosed:
		s.mu.Unlock()
		return
	case s.awaitingPong, s.eio3 != nil: // protocol 3: no ping came in time
		s.mu.Unlock()
		s.finish(ReasonPingTimeout, nil, packet.Close)
		return
	}
	s.awaitingPong = true
	s.resetTimerLocked(s.srv.opts.PingTimeout)
	// The ping bypasses the queue bound: it is tiny and the heartbeat must go.
	s.enqueueLocked(SendOptions{}, packet.Packet{Type: packet.Ping})
	s.mu.Unlock()
}

// extendPongDeadlineLocked gives a peer that is sending something else
// more time to answer a ping, as the reference does: incoming data is a
// sign of life, and a large upload may delay the pong.
func (s *Session) extendPongDeadlineLocked() {
	if s.awaitingPong && s.state == stateOpen {
		s.resetTimerLocked(s.srv.opts.PingInterval + s.srv.opts.PingTimeout)
	}
}

// resetTimerLocked re-arms the session's one timer. A callback of the old
// arming may already be waiting for the lock: it sees timerAt in the future
// and does nothing.
func (s *Session) resetTimerLocked(d time.Duration) {
	s.timerAt = time.Now().Add(d)
	s.timer.Reset(d)
}

// onPacket handles a packet from the client on the active transport. It
// returns false when the session ended and reading must stop.
func (s *Session) onPacket(p packet.Packet) bool {
	s.srv.stats.received(len(p.Data))
	if s.eio3 != nil && (p.Type == packet.Ping || p.Type == packet.Pong) {
		return s.onHeartbeatV3(p) // the client pings there
	}
	switch p.Type {
	case packet.Message:
		s.mu.Lock()
		h, open := s.handler, s.state != stateClosed
		s.extendPongDeadlineLocked()
		s.mu.Unlock()
		if open && h != nil {
			h.OnMessage(p.Data, p.Binary)
		}
		return open
	case packet.Pong:
		s.mu.Lock()
		if s.awaitingPong && s.state == stateOpen {
			s.awaitingPong = false
			s.resetTimerLocked(s.srv.opts.PingInterval)
		}
		s.mu.Unlock()
	case packet.Ping:
		if s.Transport() != Polling {
			// Not on the reader: a poller must not wait for the close frame.
			go s.finish(ReasonTransportError, ErrBadHeartbeat, packet.Close)
		} else {
			s.finish(ReasonTransportError, ErrBadHeartbeat, packet.Close)
		}
		return false
	case packet.Close:
		if s.Transport() != Polling {
			return true // the reference ignores it there: a websocket client just closes
		}
		// The client leaves; a pending poll is released with a noop, and
		// one not here yet may still come for it (see order.go).
		s.mu.Lock()
		s.linger = s.poll == nil && s.state != stateClosed
		s.mu.Unlock()
		s.finish(ReasonTransportClose, nil, packet.Noop)
		return false
	default:
		s.mu.Lock()
		s.extendPongDeadlineLocked()
		s.mu.Unlock()
	}
	// open, upgrade and noop from a client carry nothing for us.
	return true
}
