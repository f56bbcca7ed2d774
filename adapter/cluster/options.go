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
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
