package emitter

import (
	"context"
	"fmt"
	"slices"

	"github.com/sockio/sockio/adapter/redis/rediswire"
	"github.com/sockio/sockio/internal/notepack"
)

// BroadcastOperator selects sockets (To, Except) and sets flags for an
// Emit or a socket operation. Each method returns a new operator.
type BroadcastOperator struct {
	e        *Emitter
	rooms    []string
	except   []string
	volatile bool
	compress *bool
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.rooms = slices.Clone(b.rooms)
	c.except = slices.Clone(b.except)
	return &c
}

func addNew(dst, add []string) []string {
	for _, r := range add {
		if !slices.Contains(dst, r) {
			dst = append(dst, r)
		}
	}
	return dst
}

// To adds rooms to the targets.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.rooms = addNew(c.rooms, rooms)
	return c
}

// In is the same as To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except leaves out the sockets in rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.except = addNew(c.except, rooms)
	return c
}

// Volatile lets the event be dropped for clients not ready for it.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.volatile = true
	return c
}

// Compress turns compression on or off for the event.
func (b *BroadcastOperator) Compress(on bool) *BroadcastOperator {
	c := b.clone()
	c.compress = &on
	return c
}

func (b *BroadcastOperator) flags() notepack.Map {
	f := notepack.Map{}
	if b.compress != nil {
		f = append(f, notepack.KV{Key: "compress", Value: *b.compress})
	}
	if b.volatile {
		f = append(f, notepack.KV{Key: "volatile", Value: true})
	}
	return f
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func isReserved(event string) bool {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// Emit sends an event to the selected clients. Arguments are encoded as
// MessagePack: []byte is binary for the client, other values take their
// encoding/json form.
func (b *BroadcastOperator) Emit(ctx context.Context, event string, args ...any) error {
	if isReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	e := b.e
	packet := notepack.Map{
		{Key: "type", Value: 2},
		{Key: "data", Value: append([]any{event}, args...)},
		{Key: "nsp", Value: e.nsp},
	}
	if e.opts.Sharded {
		channel, roomChannel := rediswire.ShardedBroadcastChannel(e.opts.Key, e.nsp, e.opts.SubscriptionMode, b.rooms)
		return e.sharded(ctx, channel, rediswire.TypeBroadcast, notepack.Map{
			{Key: "packet", Value: packet},
			{Key: "opts", Value: notepack.Map{
				{Key: "rooms", Value: orEmpty(b.rooms)},
				{Key: "except", Value: orEmpty(b.except)},
				{Key: "flags", Value: b.flags()},
			}},
		}, !roomChannel)
	}
	msg, err := notepack.Marshal([]any{UID, packet, notepack.Map{
		{Key: "rooms", Value: orEmpty(b.rooms)},
		{Key: "flags", Value: b.flags()},
		{Key: "except", Value: orEmpty(b.except)},
	}})
	if err != nil {
		return fmt.Errorf("emitter: emit %q: %w", event, err)
	}
	channel := e.channel()
	if len(b.rooms) == 1 {
		channel = rediswire.RoomChannel(e.opts.Key, e.nsp, b.rooms[0])
	}
	return e.publish(ctx, channel, msg, true)
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return b.socketsOp(ctx, rediswire.ReqRemoteJoin, rediswire.TypeSocketsJoin, rooms, false)
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return b.socketsOp(ctx, rediswire.ReqRemoteLeave, rediswire.TypeSocketsLeave, rooms, false)
}

// DisconnectSockets disconnects the selected sockets; close also closes
// their connections.
func (b *BroadcastOperator) DisconnectSockets(ctx context.Context, close bool) error {
	return b.socketsOp(ctx, rediswire.ReqRemoteDisconnect, rediswire.TypeDisconnectSockets, nil, close)
}

func (b *BroadcastOperator) socketsOp(ctx context.Context, req, typ int, rooms []string, close bool) error {
	e := b.e
	opts := notepack.Map{{Key: "rooms", Value: orEmpty(b.rooms)}, {Key: "except", Value: orEmpty(b.except)}}
	last := notepack.KV{Key: "rooms", Value: orEmpty(rooms)}
	if req == rediswire.ReqRemoteDisconnect {
		last = notepack.KV{Key: "close", Value: close}
	}
	if e.opts.Sharded {
		opts = append(opts, notepack.KV{Key: "flags", Value: notepack.Map{}})
		return e.sharded(ctx, e.channel(), typ, notepack.Map{{Key: "opts", Value: opts}, last}, true)
	}
	msg, err := notepack.AppendStringify(nil, notepack.Map{{Key: "type", Value: req}, {Key: "opts", Value: opts}, last})
	if err != nil {
		return fmt.Errorf("emitter: %w", err)
	}
	return e.publish(ctx, e.requestChannel(), msg, true)
}
