package redis

import (
	"log/slog"
	"time"

	"github.com/sockio/sockio/adapter/redis/rediswire"
)

// SubscriptionMode says which channels a sharded adapter subscribes to, as
// the reference's subscriptionMode option (the same type as emitter's).
type SubscriptionMode = rediswire.SubscriptionMode

const (
	// Dynamic: one channel per namespace, plus one per public room (a room
	// that is not a socket id) that has local members. The default.
	Dynamic = rediswire.Dynamic
	// Static: one channel per namespace; every node gets every broadcast.
	Static = rediswire.Static
	// DynamicPrivate: as Dynamic, private rooms (socket ids) included.
	DynamicPrivate = rediswire.DynamicPrivate
)

// Options configure the adapter. The zero value gives the defaults of the
// Node.js @socket.io/redis-adapter.
type Options struct {
	// Key prefixes every channel name (default "socket.io"): the
	// reference's key option, channelPrefix in sharded mode.
	Key string
	// RequestsTimeout bounds a request to the other nodes (FetchSockets,
	// ServerSideEmit with an acknowledgement, AllRooms); default 5s.
	RequestsTimeout time.Duration
	// Sharded uses Redis 7 sharded Pub/Sub, compatible with the
	// reference's createShardedAdapter (all nodes of a cluster must agree).
	Sharded bool
	// SubscriptionMode applies in sharded mode (default Dynamic).
	SubscriptionMode SubscriptionMode
	// PublishOnSpecificResponseChannel answers a request on the
	// requester's own response channel instead of the shared one (classic
	// mode; as the reference's option of the same name).
	PublishOnSpecificResponseChannel bool
	// Logger receives connection state changes and dropped messages
	// (default slog.Default()).
	Logger *slog.Logger
	// PublishQueue bounds the messages waiting to be published (default
	// 8192); past it new ones are dropped, counted (Stats.NotPublished)
	// and logged. The queue keeps Broadcast from ever waiting for Redis.
	PublishQueue int
	// HealthCheckInterval: a subscriber silent this long is pinged, and
	// replaced if still silent after as long again (default 15s).
	HealthCheckInterval time.Duration
	// MaxMessageSize bounds a message between nodes, in bytes (default
	// 16 MiB; negative: no bound). A bigger one is not published, and one
	// received is ignored; both are counted (Stats) and logged. Why: Redis
	// disconnects a subscriber whose output buffer passes its pubsub limit
	// (client-output-buffer-limit, 32 MiB by default), so one huge
	// broadcast would make every node deaf for a while; with allocator
	// rounding a 30 MiB message already did on Redis 7.0.
	MaxMessageSize int
}

// DefaultMaxMessageSize is MaxMessageSize's default: half of Redis'
// default pubsub output buffer hard limit.
const DefaultMaxMessageSize = 16 << 20

func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = rediswire.DefaultKey
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
	if o.SubscriptionMode == "" {
		o.SubscriptionMode = Dynamic
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PublishQueue <= 0 {
		o.PublishQueue = 8192
	}
	if o.HealthCheckInterval <= 0 {
		o.HealthCheckInterval = 15 * time.Second
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	return o
}
