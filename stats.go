package sockio

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio/engineio"
)

// Stats is what a Server counted since NewServer, per namespace, and how
// many sockets each namespace holds now. The counters are atomics the
// server keeps whether or not anyone reads them (an add or two per event,
// no lock, no allocation); the socket counts are read at the call.
// Engine().Stats() has the connections' side (transports, packets, bytes,
// send queues). Package metrics exposes both to Prometheus.
type Stats struct {
	// Namespaces has one entry per namespace created with Of, and one per
	// parent (OfFunc, OfRegexp) for all its children together: children
	// are named by clients, so they are not counted one by one.
	Namespaces []NamespaceStats
	// InvalidNamespace counts the CONNECTs refused because no namespace
	// has the name and no parent matched it.
	InvalidNamespace uint64
}

// NamespaceStats are the counts of one namespace, or of a parent's
// children.
type NamespaceStats struct {
	// Name is the namespace's name; for a parent's children, the parent's
	// pattern (OfRegexp) or "(dynamic)" (OfFunc).
	Name string
	// Dynamic marks the entry of a parent's children.
	Dynamic bool
	// Sockets is the sockets connected now, by their connection's
	// transport (engineio.Polling, engineio.WebSocket).
	Sockets map[string]int
	// Connections counts the sockets that connected (recovered ones too).
	Connections uint64
	// Disconnections counts the sockets that left, by reason
	// (ReasonClientNamespaceDisconnect, engineio.ReasonPingTimeout...;
	// "other" for a reason not among them).
	Disconnections map[string]uint64
	// ConnectRefused counts the connections a middleware (Use) refused;
	// EventsRefused the events a socket's middleware (Socket.Use) stopped.
	ConnectRefused, EventsRefused uint64
	// Events counts the events received and handled, and times their
	// handling (OnAny handlers, middlewares and handlers, on the client's
	// worker) when StatsOptions.Latency is on: by name for the names of
	// StatsOptions.Events, under "" for all the others.
	Events map[string]EventStats
	// AcksSent counts the acknowledgements this server sent for the
	// clients' events (Event.Ack, or a typed handler's Ack).
	AcksSent uint64
	// AckRequests counts the acknowledgements this server asked clients
	// for (one per socket for a broadcast); AcksReceived those that came,
	// AckTimeouts those that did not come in time. The rest were abandoned:
	// the socket left, or the caller's context ended.
	AckRequests, AcksReceived, AckTimeouts uint64
	// AckLatency is the time from asking to receiving, with
	// StatsOptions.Latency on.
	AckLatency Latency
	// RecoveryAttempts counts the connections that asked for
	// connection-state recovery (a private id and an offset); Recovered
	// those that got their session back, RecoveryMissed those that did
	// not (unknown or expired session, offset no longer kept) and
	// connected as new sockets.
	RecoveryAttempts, Recovered, RecoveryMissed uint64
}

// EventStats are the counts of one event name (or of the others).
type EventStats struct {
	Received uint64
	Latency  Latency
}

// LatencyBuckets are the upper bounds of the Latency buckets.
var LatencyBuckets = [...]time.Duration{
	5 * time.Microsecond, 10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond,
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Latency is a histogram of durations.
type Latency struct {
	// Count and Sum are the observations and their total.
	Count uint64
	Sum   time.Duration
	// Buckets[i] counts the observations of at most LatencyBuckets[i]
	// (cumulative, as Prometheus buckets are).
	Buckets [len(LatencyBuckets)]uint64
}

// StatsOptions choose what the server measures beyond its counters.
type StatsOptions struct {
	// Latency times event handling and acknowledgements: two clock reads
	// per event and per acknowledgement asked for.
	Latency bool
	// Events names the events counted and timed one by one. Event names
	// come from clients: only those listed get an entry of their own, so
	// that a client making names up cannot grow the statistics.
	Events []string
}

// SetStatsOptions sets what the server measures beyond its counters. Set
// it before serving: the counts of an event dropped from Events are lost.
func (srv *Server) SetStatsOptions(o StatsOptions) {
	st := &srv.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	st.events = slices.Clone(o.Events)
	for _, ns := range st.list {
		ns.setEvents(st.events)
	}
	st.latency.Store(o.Latency)
}

// Stats returns the server's counts. It visits every socket (a lock
// each): it is for a scrape every few seconds, not for a loop.
func (srv *Server) Stats() Stats {
	st := &srv.stats
	st.mu.Lock()
	list := slices.Clone(st.list)
	st.mu.Unlock()
	out := Stats{Namespaces: make([]NamespaceStats, len(list)), InvalidNamespace: st.invalidNamespace.Load()}
	index := make(map[*nspStats]int, len(list))
	for i, ns := range list {
		out.Namespaces[i] = ns.snapshot()
		index[ns] = i
	}
	for _, n := range srv.Namespaces() {
		i, ok := index[n.stats]
		if !ok {
			continue // created since the list was copied
		}
		for _, s := range n.Sockets() {
			out.Namespaces[i].Sockets[s.client.conn.Transport()]++
		}
	}
	return out
}

// serverStats is a server's side of the counts.
type serverStats struct {
	latency          atomic.Bool // StatsOptions.Latency
	invalidNamespace atomic.Uint64

	mu     sync.Mutex
	list   []*nspStats // one per namespace made with Of, one per parent
	events []string    // StatsOptions.Events
}

// add makes the counters of a namespace made with Of (dynamic false) or
// of a parent's children.
func (st *serverStats) add(name string, dynamic bool) *nspStats {
	ns := &nspStats{name: name, dynamic: dynamic}
	st.mu.Lock()
	ns.setEvents(st.events)
	st.list = append(st.list, ns)
	st.mu.Unlock()
	return ns
}

// nspStats are a namespace's counters (shared by a parent's children).
type nspStats struct {
	name    string
	dynamic bool

	other eventCounter                             // events not in named
	named atomic.Pointer[map[string]*eventCounter] // StatsOptions.Events

	connections                     atomic.Uint64
	disconnections                  [len(socketReasons)]atomic.Uint64
	connectRefused, eventsRefused   atomic.Uint64
	acksSent                        atomic.Uint64
	ackRequests, acksIn, ackTimeout atomic.Uint64
	ackLatency                      latencyHist
	recoveryAttempts, recovered     atomic.Uint64
	recoveryMissed                  atomic.Uint64
}

type eventCounter struct {
	n       atomic.Uint64
	latency latencyHist
}

// setEvents replaces the allow list's counters, keeping those of names in
// both lists. The caller holds serverStats.mu.
func (ns *nspStats) setEvents(names []string) {
	if len(names) == 0 && ns.named.Load() == nil {
		return
	}
	old := ns.named.Load()
	m := make(map[string]*eventCounter, len(names))
	for _, name := range names {
		if old != nil && (*old)[name] != nil {
			m[name] = (*old)[name]
		} else {
			m[name] = &eventCounter{}
		}
	}
	ns.named.Store(&m)
}

// event returns the counter of an event name: its own if allow-listed.
func (ns *nspStats) event(name string) *eventCounter {
	if m := ns.named.Load(); m != nil {
		if c := (*m)[name]; c != nil {
			return c
		}
	}
	return &ns.other
}

func (ns *nspStats) disconnected(reason string) {
	ns.disconnections[socketReasonIndex(reason)].Add(1)
}

func (ns *nspStats) snapshot() NamespaceStats {
	out := NamespaceStats{
		Name:             ns.name,
		Dynamic:          ns.dynamic,
		Sockets:          map[string]int{engineio.Polling: 0, engineio.WebSocket: 0},
		Connections:      ns.connections.Load(),
		Disconnections:   make(map[string]uint64, len(socketReasons)),
		ConnectRefused:   ns.connectRefused.Load(),
		EventsRefused:    ns.eventsRefused.Load(),
		Events:           map[string]EventStats{"": ns.other.snapshot()},
		AcksSent:         ns.acksSent.Load(),
		AckRequests:      ns.ackRequests.Load(),
		AcksReceived:     ns.acksIn.Load(),
		AckTimeouts:      ns.ackTimeout.Load(),
		AckLatency:       ns.ackLatency.snapshot(),
		RecoveryAttempts: ns.recoveryAttempts.Load(),
		Recovered:        ns.recovered.Load(),
		RecoveryMissed:   ns.recoveryMissed.Load(),
	}
	for i, r := range socketReasons {
		out.Disconnections[r] = ns.disconnections[i].Load()
	}
	if m := ns.named.Load(); m != nil {
		for name, c := range *m {
			if name != "" {
				out.Events[name] = c.snapshot()
			}
		}
	}
	return out
}

func (c *eventCounter) snapshot() EventStats {
	return EventStats{Received: c.n.Load(), Latency: c.latency.snapshot()}
}

// socketReasons are the disconnect reasons NamespaceStats counts one by one.
var socketReasons = [...]string{
	engineio.ReasonTransportClose,
	engineio.ReasonTransportError,
	engineio.ReasonParseError,
	engineio.ReasonPingTimeout,
	engineio.ReasonForcedClose,
	engineio.ReasonSlowConsumer,
	ReasonServerShuttingDown,
	ReasonClientNamespaceDisconnect,
	ReasonServerNamespaceDisconnect,
	ReasonForcedServerClose,
	"other",
}

func socketReasonIndex(reason string) int {
	for i, r := range socketReasons[:len(socketReasons)-1] {
		if r == reason {
			return i
		}
	}
	return len(socketReasons) - 1
}

// latencyHist is a histogram of atomics: an observation is a few adds.
type latencyHist struct {
	counts [len(LatencyBuckets) + 1]atomic.Uint64 // the last: above every bound
	sum    atomic.Int64
}

func (h *latencyHist) observe(d time.Duration) {
	i := 0
	for i < len(LatencyBuckets) && d > LatencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// observeSince observes the time since start (for a deferred call).
func (h *latencyHist) observeSince(start time.Time) { h.observe(time.Since(start)) }

func (h *latencyHist) snapshot() Latency {
	var l Latency
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
		if i < len(l.Buckets) {
			l.Buckets[i] = n
		}
	}
	// The count from the buckets, so that it is never below the last one
	// even when observations land during the read.
	l.Count, l.Sum = n, time.Duration(h.sum.Load())
	return l
}

// timing reports whether StatsOptions.Latency is on.
func (srv *Server) timing() bool { return srv.stats.latency.Load() }

// expireAck forgets a broadcast's acknowledgement whose time ran out,
// counting it timed out if it was still awaited.
func (s *Socket) expireAck(id uint64) {
	if pa := s.takeAck(id); pa != nil {
		if pa.timer != nil {
			pa.timer.Stop()
		}
		s.nsp.stats.ackTimeout.Add(1)
	}
}
