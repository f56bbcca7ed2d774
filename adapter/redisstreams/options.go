package redisstreams

import (
	"log/slog"
	"time"
)

// Options configure a Broker. The zero value gives the defaults of the
// Node.js @socket.io/redis-streams-adapter, whose option names these
// follow; every node of a cluster must agree on StreamName, StreamCount,
// ChannelPrefix, UseShardedPubSub and SessionKeyPrefix.
type Options struct {
	// StreamName is the stream, or the prefix of the streams when
	// StreamCount > 1 (default "socket.io").
	StreamName string
	// StreamCount spreads the namespaces over this many streams
	// ("<StreamName>-<i>"), by the reference's hash of the namespace name
	// (default 1).
	StreamCount int
	// ChannelPrefix prefixes the Pub/Sub channels (default "socket.io").
	ChannelPrefix string
	// UseShardedPubSub uses SPUBLISH/SSUBSCRIBE (Redis 7).
	UseShardedPubSub bool
	// MaxLen trims the stream with MAXLEN ~ MaxLen on every XADD (default
	// 10000). It bounds how many events a disconnected client can miss and
	// still recover.
	MaxLen int64
	// ReadCount is the COUNT of each XREAD and XRANGE page (default 100).
	ReadCount int64
	// BlockTime is the BLOCK of each XREAD (default 5s).
	BlockTime time.Duration
	// SessionKeyPrefix prefixes the keys of the recovery sessions (default
	// "sio:session:").
	SessionKeyPrefix string
	// OnlyPlaintext skips the binary check: data is always JSON.
	OnlyPlaintext bool
	// PublishTimeout bounds one publish (default 1s). After a failure,
	// publishes fail at once for RetryAfter instead of each waiting on a
	// Redis that is down.
	PublishTimeout time.Duration
	// RetryAfter: see PublishTimeout (default 500ms).
	RetryAfter time.Duration
	// HeartbeatInterval, HeartbeatTimeout and RequestsTimeout are passed
	// to cluster.NewAdapter by NewAdapter (defaults 5s, 10s, 5s).
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	RequestsTimeout   time.Duration
	// DisableLiveSessions and LiveSessionsFlush are passed to
	// cluster.NewAdapter by NewAdapter: see cluster.Options.
	DisableLiveSessions bool
	LiveSessionsFlush   time.Duration
	// Logger receives failures and dropped or malformed messages (default
	// slog.Default()).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.StreamName == "" {
		o.StreamName = "socket.io"
	}
	if o.StreamCount <= 0 {
		o.StreamCount = 1
	}
	if o.ChannelPrefix == "" {
		o.ChannelPrefix = "socket.io"
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 10_000
	}
	if o.ReadCount <= 0 {
		o.ReadCount = 100
	}
	if o.BlockTime <= 0 {
		o.BlockTime = 5 * time.Second
	}
	if o.SessionKeyPrefix == "" {
		o.SessionKeyPrefix = "sio:session:"
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = time.Second
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
