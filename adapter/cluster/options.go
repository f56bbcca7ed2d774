package cluster

import (
	"log/slog"
	"time"
)

// Options configure the cluster adapter. The zero value gives the
// reference's defaults.
type Options struct {
	// HeartbeatInterval is how often a node that published nothing else
	// says it is alive (default 5s).
	HeartbeatInterval time.Duration
	// HeartbeatTimeout drops a node unheard for this long from the live
	// nodes (default 10s): the server count no longer includes it and
	// requests stop waiting for it.
	HeartbeatTimeout time.Duration
	// RequestsTimeout bounds a request to the other nodes (FetchSockets,
	// ServerSideEmit with acknowledgements), a broadcast with
	// acknowledgements without a timeout of its own, and each call to the
	// broker (default 5s).
	RequestsTimeout time.Duration
	// DisableLiveSessions turns off the live sessions: with a broker that
	// has a Log and a SessionStore, and connection-state recovery on, the
	// session of every connected socket is kept in the store (written when
	// it connects and when its rooms or data change, coalesced, and
	// rewritten every half recovery window), so that its client recovers
	// through another node even when its own node dies without a word.
	// Cost: one store write per socket per half window (one a minute with
	// the default two minutes), plus one per flush in which it changed.
	// Off, sessions are kept only when sockets disconnect, as the
	// reference does: a killed node's clients do not recover.
	DisableLiveSessions bool
	// LiveSessionsFlush is how often the live sessions that changed are
	// written, in one batch (default 1s): a node killed within that much
	// of a change loses it.
	LiveSessionsFlush time.Duration
	// Logger receives dropped and malformed messages and node changes
	// (default slog.Default()).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 5 * time.Second
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 10 * time.Second
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
	if o.LiveSessionsFlush <= 0 {
		o.LiveSessionsFlush = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
