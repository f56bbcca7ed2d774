package engineio

import "sync/atomic"

// Stats is what a Server counted since NewServer, and what it holds now.
// The counters are plain atomics the server keeps whether or not anyone
// reads them (a few adds per message, no lock, no allocation); what holds
// now (open sessions, queued packets) is read from the sessions at the
// call, so it costs the hot path nothing. Package metrics turns it into
// Prometheus metrics.
type Stats struct {
	// Sessions is the sessions open now, by transport (Polling, WebSocket).
	Sessions map[string]int
	// Opened counts the sessions opened, by the transport of their handshake.
	Opened map[string]uint64
	// Closed counts the sessions ended, by reason (ReasonTransportClose,
	// ReasonSlowConsumer...; "other" for a reason not among them).
	Closed map[string]uint64
	// Upgrades counts the polling sessions moved onto a websocket;
	// UpgradeFailures the upgrades abandoned (probe timed out, websocket
	// closed, unexpected packet), after which the session goes on polling.
	Upgrades, UpgradeFailures uint64
	// PacketsIn and BytesIn count the Engine.IO packets received (pongs
	// included) and their bytes, type included, without the transport's
	// framing; PacketsOut and BytesOut those written to the transport.
	PacketsIn, BytesIn, PacketsOut, BytesOut uint64
	// VolatileDropped counts the volatile sends dropped because the
	// transport could not take them at once (SendVolatile).
	VolatileDropped uint64
	// PollGets and PollPosts count the long-polling requests served.
	PollGets, PollPosts uint64
	// QueuedPackets and QueuedBytes are the packets waiting in the
	// sessions' send queues now, all sessions together; MaxQueuedPackets
	// is the longest of those queues (a slow consumer shows there first).
	QueuedPackets, QueuedBytes, MaxQueuedPackets int
	// Forwarded counts the requests passed to another node (Forwarding),
	// ForwardFailed those whose node did not answer (the client was told
	// its session is unknown).
	Forwarded, ForwardFailed uint64
	// DrainRefused counts the handshakes refused with 503 while draining.
	DrainRefused uint64
}

// closeReasons are the reasons Stats.Closed counts one by one.
var closeReasons = [...]string{
	ReasonTransportClose,
	ReasonTransportError,
	ReasonParseError,
	ReasonPingTimeout,
	ReasonForcedClose,
	ReasonServerShutdown,
	ReasonSlowConsumer,
	"other",
}

func closeReasonIndex(reason string) int {
	for i, r := range closeReasons[:len(closeReasons)-1] {
		if r == reason {
			return i
		}
	}
	return len(closeReasons) - 1
}

// counters are the server's running counts. Those written per message
// sit on cache lines of their own: readers (in) and the flusher (out) run
// on different cores, and a shared line would bounce between them.
type counters struct {
	_          [64]byte
	packetsIn  atomic.Uint64
	bytesIn    atomic.Uint64
	_          [64]byte
	packetsOut atomic.Uint64
	bytesOut   atomic.Uint64
	_          [64]byte

	opened                   [3]atomic.Uint64 // by transportIndex
	closed                   [len(closeReasons)]atomic.Uint64
	upgrades, upgradeFailed  atomic.Uint64
	volatileDropped          atomic.Uint64
	pollGets, pollPosts      atomic.Uint64
	forwarded, forwardFailed atomic.Uint64
	drainRefused             atomic.Uint64
}

func transportIndex(t string) int {
	switch t {
	case WebSocket:
		return 1
	case WebTransport:
		return 2
	}
	return 0
}

// received counts one packet from a client, of n bytes of data.
func (c *counters) received(n int) {
	c.packetsIn.Add(1)
	c.bytesIn.Add(uint64(n) + 1)
}

// sent counts packets written to a transport.
func (c *counters) sent(pkts []frame) {
	n := 0
	for i := range pkts {
		n += len(pkts[i].Data) + 1
	}
	c.packetsOut.Add(uint64(len(pkts)))
	c.bytesOut.Add(uint64(n))
}

// Stats returns the server's counters and what its sessions hold now. It
// visits every session (a lock each), so it is for a scrape every few
// seconds, not for a loop.
func (srv *Server) Stats() Stats {
	c := &srv.stats
	st := Stats{
		Sessions:        map[string]int{Polling: 0, WebSocket: 0},
		Opened:          map[string]uint64{Polling: c.opened[0].Load(), WebSocket: c.opened[1].Load()},
		Closed:          make(map[string]uint64, len(closeReasons)),
		Upgrades:        c.upgrades.Load(),
		UpgradeFailures: c.upgradeFailed.Load(),
		PacketsIn:       c.packetsIn.Load(),
		BytesIn:         c.bytesIn.Load(),
		PacketsOut:      c.packetsOut.Load(),
		BytesOut:        c.bytesOut.Load(),
		VolatileDropped: c.volatileDropped.Load(),
		PollGets:        c.pollGets.Load(),
		PollPosts:       c.pollPosts.Load(),
		Forwarded:       c.forwarded.Load(),
		ForwardFailed:   c.forwardFailed.Load(),
		DrainRefused:    c.drainRefused.Load(),
	}
	if n := c.opened[2].Load(); n > 0 { // listed once used: most servers never offer it
		st.Opened[WebTransport] = n
	}
	for i, r := range closeReasons {
		st.Closed[r] = c.closed[i].Load()
	}
	// A copy of the list, so that handshakes do not wait for the visit.
	srv.mu.RLock()
	list := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		list = append(list, s)
	}
	srv.mu.RUnlock()
	for _, s := range list {
		s.mu.Lock()
		t, n, b, open := s.transport, len(s.queue), s.queuedBytes, s.state != stateClosed
		s.mu.Unlock()
		if !open {
			continue
		}
		st.Sessions[t]++
		st.QueuedPackets += n
		st.QueuedBytes += b
		st.MaxQueuedPackets = max(st.MaxQueuedPackets, n)
	}
	return st
}
