package emitter

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/redis/notepack"
)

// UID is the sender id of every message of an emitter, as in the
// reference (adapters never take it for one of theirs).
const UID = "emitter"

// ErrReservedEvent is returned when emitting an event name Socket.IO
// reserves.
var ErrReservedEvent = errors.New("emitter: reserved event name")

// SubscriptionMode is the subscription mode of the sharded adapters the
// emitter talks to; it decides the channel of a broadcast to one room.
type SubscriptionMode string

// The sharded subscription modes, as adapter/redis and the reference name
// them.
const (
	Dynamic        SubscriptionMode = "dynamic"
	Static         SubscriptionMode = "static"
	DynamicPrivate SubscriptionMode = "dynamic-private"
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
}

// Emitter sends to one namespace ("/" from New; see Of).
type Emitter struct {
	client redis.UniversalClient
	opts   Options
	nsp    string
}

// New returns an emitter for namespace "/" that publishes with client.
func New(client redis.UniversalClient, opts Options) *Emitter {
	if opts.Key == "" {
		opts.Key = "socket.io"
	}
	if opts.SubscriptionMode == "" {
		opts.SubscriptionMode = Dynamic
	}
	return &Emitter{client: client, opts: opts, nsp: "/"}
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
		return e.sharded(ctx, e.channel(), typeServerSideEmit, notepack.Map{{Key: "packet", Value: data}})
	}
	msg, err := notepack.AppendStringify(nil, notepack.Map{
		{Key: "uid", Value: UID},
		{Key: "type", Value: reqServerSideEmit},
		{Key: "data", Value: data},
	})
	if err != nil {
		return fmt.Errorf("emitter: serverSideEmit: %w", err)
	}
	return e.publish(ctx, e.requestChannel(), msg)
}

// Request types of the classic protocol, and message types of the
// sharded one.
const (
	reqRemoteJoin       = 2
	reqRemoteLeave      = 3
	reqRemoteDisconnect = 4
	reqServerSideEmit   = 6

	typeBroadcast         = 3
	typeSocketsJoin       = 4
	typeSocketsLeave      = 5
	typeDisconnectSockets = 6
	typeServerSideEmit    = 9
)

func (e *Emitter) channel() string        { return e.opts.Key + "#" + e.nsp + "#" }
func (e *Emitter) requestChannel() string { return e.opts.Key + "-request#" + e.nsp + "#" }

func (e *Emitter) publish(ctx context.Context, channel string, msg []byte) error {
	var err error
	if e.opts.Sharded {
		err = e.client.SPublish(ctx, channel, msg).Err()
	} else {
		err = e.client.Publish(ctx, channel, msg).Err()
	}
	if err != nil {
		return fmt.Errorf("emitter: publish to %s: %w", channel, err)
	}
	return nil
}

// sharded publishes a sharded-format message: {type, data, uid, nsp},
// JSON unless it carries binary.
func (e *Emitter) sharded(ctx context.Context, channel string, typ int, data notepack.Map) error {
	msg := notepack.Map{
		{Key: "type", Value: typ},
		{Key: "data", Value: data},
		{Key: "uid", Value: UID},
		{Key: "nsp", Value: e.nsp},
	}
	var b []byte
	var err error
	if (typ == typeBroadcast || typ == typeServerSideEmit) && notepack.HasBinary(data) {
		b, err = notepack.Marshal(msg)
	} else {
		b, err = notepack.AppendStringify(nil, msg)
	}
	if err != nil {
		return fmt.Errorf("emitter: %w", err)
	}
	return e.publish(ctx, channel, b)
}
