package nats

import (
	"log/slog"
	"time"
)

// Defaults of Options.
const (
	DefaultPrefix         = "socket.io"
	DefaultStreamName     = "SOCKETIO"
	DefaultPublishTimeout = 2 * time.Second
	// DefaultRecoveryMaxMsgs bounds the stream in messages (all namespaces).
	DefaultRecoveryMaxMsgs = 1_000_000
	// DefaultRecoveryMaxBytes bounds the stream in bytes (all namespaces).
	DefaultRecoveryMaxBytes = 1 << 30
)

// Options configure a Broker (and through NewAdapter the cluster core).
// Every node of a cluster must use the same Prefix, StreamName and
// Recovery.
type Options struct {
	// Prefix starts every subject, "socket.io" by default. It must be a
	// literal subject (dots allowed, no wildcards).
	Prefix string
	// StreamName names the JetStream stream of the recovery log, "SOCKETIO"
	// by default; the session bucket is StreamName + "_sessions".
	StreamName string
	// Recovery turns on the JetStream log and session store when its
	// Window is set.
	Recovery Recovery
	// PublishTimeout bounds the wait for JetStream's acknowledgement of a
	// published message (2 s by default); while the connection is down a
	// JetStream publish fails at once instead.
	PublishTimeout time.Duration
	// Logger receives the broker's warnings; slog.Default() when nil.
	Logger *slog.Logger

	// Passed to adapter/cluster by NewAdapter (its defaults when zero).
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	RequestsTimeout   time.Duration
	// Passed to adapter/cluster by NewAdapter: see cluster.Options. The
	// live sessions of connected sockets live in the bucket, whose TTL
	// (Recovery.Window) cuts theirs: a Window of 1.5 times the server's
	// MaxDisconnectionDuration gives a killed node's clients that whole
	// duration, half of it otherwise at worst.
	DisableLiveSessions bool
	LiveSessionsFlush   time.Duration
}

// Recovery configures the JetStream log that connection-state recovery
// reads across nodes. It should match the server's
// ConnectionStateRecovery.MaxDisconnectionDuration.
type Recovery struct {
	// Window is how long messages and sessions are kept (the stream's
	// MaxAge and the bucket's TTL); zero turns recovery off.
	Window time.Duration
	// MaxMsgs and MaxBytes bound the stream, oldest messages dropped first
	// (DefaultRecoveryMaxMsgs, DefaultRecoveryMaxBytes when zero). A client
	// whose offset fell out of the stream is not recovered.
	MaxMsgs  int64
	MaxBytes int64
	// Replicas of the stream and the bucket in a JetStream cluster; 1 when
	// zero.
	Replicas int
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.StreamName == "" {
		o.StreamName = DefaultStreamName
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Recovery.MaxMsgs <= 0 {
		o.Recovery.MaxMsgs = DefaultRecoveryMaxMsgs
	}
	if o.Recovery.MaxBytes <= 0 {
		o.Recovery.MaxBytes = DefaultRecoveryMaxBytes
	}
	if o.Recovery.Replicas <= 0 {
		o.Recovery.Replicas = 1
	}
	return o
}
