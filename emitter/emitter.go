package emitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/redis/rediswire"
	"github.com/sockio/sockio/internal/notepack"
)

// UID is the sender id of every message of an emitter, as in the
// reference (adapters never take it for one of theirs).
const UID = rediswire.EmitterUID

// ErrReservedEvent is returned when emitting an event name Socket.IO
// reserves.
var ErrReservedEvent = errors.New("emitter: reserved event name")

// SubscriptionMode is the subscription mode of the sharded adapters the
// emitter talks to; it decides the channel of a broadcast to one room.
type SubscriptionMode = rediswire.SubscriptionMode

// The sharded subscription modes, as adapter/redis and the reference name
// them.
const (
	Dynamic        = rediswire.Dynamic
	Static         = rediswire.Static
	DynamicPrivate = rediswire.DynamicPrivate
)

// Options configure an emitter; the zero value matches the adapters'
// defaults.
type Options struct {
	// Key prefixes the channel names (default "socket.io"); it must be the
	// adapters' key.
	Key string
	// Sharded publishes with SPUBLISH in the sharded adapters' format.
	Sharded bool
	// SubscriptionMode of the sharded adapters (default Dynamic).
	SubscriptionMode SubscriptionMode
	// Logger receives the messages that reached no node (default
	// slog.Default()), at most one line every 5s with a count.
	Logger *slog.Logger
}

// Stats counts what an emitter published (with its Of copies).
type Stats struct {
	// Published counts the messages Redis accepted.
	Published uint64
	// Unreceived counts the messages Redis accepted but that no node was
	// subscribed to receive (PUBLISH answered 0): no server runs for the
	// namespace, all of them were away from Redis, or they use another
	// Key or mode. A broadcast to one room in the sharded dynamic modes
	// is not counted: there, no receiver means nobody is in the room.
	// Redis keeps nothing, so these are lost; they are also logged.
	Unreceived uint64
}

// Emitter sends to one namespace ("/" from New; see Of).
type Emitter struct {
	client redis.UniversalClient
	opts   Options
	nsp    string
	stats  *stats // shared with the Of copies
}

type stats struct {
	published, unreceived atomic.Uint64

	mu      sync.Mutex
	pending uint64
	channel string
	last    time.Time
	timer   *time.Timer
	log     *slog.Logger
}

// reportEvery bounds the lines logged about messages no node received.
const reportEvery = 5 * time.Second

// noReceiver counts a message no node got and logs it: at once, or in
// the next line (a timer makes sure it comes).
func (s *stats) noReceiver(channel string) {
	s.unreceived.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending++
	s.channel = channel
	wait := reportEvery - time.Since(s.last)
	if wait <= 0 {
		s.flushLocked()
	} else if s.timer == nil {
		s.timer = time.AfterFunc(wait, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.timer = nil
			s.flushLocked()
		})
	}
}

func (s *stats) flushLocked() {
	if s.pending == 0 {
		return
	}
	s.log.Warn("emitter: messages reached no node", "count", s.pending, "total", s.unreceived.Load(), "channel", s.channel)
	s.pending, s.last = 0, time.Now()
}

// Stats returns the counts of what the emitter (and its Of copies)
// published.
func (e *Emitter) Stats() Stats {
	return Stats{Published: e.stats.published.Load(), Unreceived: e.stats.unreceived.Load()}
}

// New returns an emitter for namespace "/" that publishes with client.
func New(client redis.UniversalClient, opts Options) *Emitter {
	if opts.Key == "" {
		opts.Key = rediswire.DefaultKey
	}
	if opts.SubscriptionMode == "" {
		opts.SubscriptionMode = Dynamic
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Emitter{client: client, opts: opts, nsp: "/", stats: &stats{log: opts.Logger}}
}

// Of returns an emitter for namespace nsp (a leading "/" is added if
// missing).
func (e *Emitter) Of(nsp string) *Emitter {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	c := *e
	c.nsp = nsp
	return &c
}

func (e *Emitter) op() *BroadcastOperator { return &BroadcastOperator{e: e} }

// To returns an operator that targets rooms.
func (e *Emitter) To(rooms ...string) *BroadcastOperator { return e.op().To(rooms...) }

// In is the same as To.
func (e *Emitter) In(rooms ...string) *BroadcastOperator { return e.op().To(rooms...) }

// Except returns an operator that leaves out the sockets in rooms.
func (e *Emitter) Except(rooms ...string) *BroadcastOperator { return e.op().Except(rooms...) }

// Volatile returns an operator whose events may be dropped.
func (e *Emitter) Volatile() *BroadcastOperator { return e.op().Volatile() }

// Compress returns an operator with compression on or off.
func (e *Emitter) Compress(on bool) *BroadcastOperator { return e.op().Compress(on) }

// Emit sends an event to every client of the namespace.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	return e.op().Emit(ctx, event, args...)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.op().SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the namespace leave rooms.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return e.op().SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the namespace; close also
// closes their connections.
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return e.op().DisconnectSockets(ctx, close)
}

// ServerSideEmit sends an event to the namespace's server-side handlers
// on every node (acknowledgements are not possible from an emitter).
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	data := append([]any{event}, args...)
	if e.opts.Sharded {
		return e.sharded(ctx, e.channel(), rediswire.TypeServerSideEmit, notepack.Map{{Key: "packet", Value: data}}, true)
	}
	msg, err := notepack.AppendStringify(nil, notepack.Map{
		{Key: "uid", Value: UID},
		{Key: "type", Value: rediswire.ReqServerSideEmit},
		{Key: "data", Value: data},
	})
	if err != nil {
		return fmt.Errorf("emitter: serverSideEmit: %w", err)
	}
	return e.publish(ctx, e.requestChannel(), msg, true)
}

func (e *Emitter) channel() string        { return rediswire.Channel(e.opts.Key, e.nsp) }
func (e *Emitter) requestChannel() string { return rediswire.RequestChannel(e.opts.Key, e.nsp) }

// publish sends msg on channel; a message that reached no node is counted
// and logged when every node would subscribe to the channel (mustReach),
// not returned as an error: the reference's emitter does not either, and
// a server may legitimately be gone.
func (e *Emitter) publish(ctx context.Context, channel string, msg []byte, mustReach bool) error {
	var n int64
	var err error
	if e.opts.Sharded {
		n, err = e.client.SPublish(ctx, channel, msg).Result()
	} else {
		n, err = e.client.Publish(ctx, channel, msg).Result()
	}
	if err != nil {
		return fmt.Errorf("emitter: publish to %s: %w", channel, err)
	}
	e.stats.published.Add(1)
	if n == 0 && mustReach {
		e.stats.noReceiver(channel)
	}
	return nil
}

// sharded publishes a sharded-format message: {type, data, uid, nsp},
// JSON unless it carries binary.
func (e *Emitter) sharded(ctx context.Context, channel string, typ int, data notepack.Map, mustReach bool) error {
	b, err := rediswire.EncodeSharded(typ, data, UID, e.nsp)
	if err != nil {
		return fmt.Errorf("emitter: %w", err)
	}
	return e.publish(ctx, channel, b, mustReach)
}
