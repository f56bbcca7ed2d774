package redis

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/adapter/redis/rediswire"
	"github.com/sockio/sockio/internal/notepack"
	"github.com/sockio/sockio/parser"
)

// Request types of @socket.io/redis-adapter 8 (classic mode), from the
// wire definition shared with package emitter.
const (
	reqSockets          = rediswire.ReqSockets
	reqAllRooms         = rediswire.ReqAllRooms
	reqRemoteJoin       = rediswire.ReqRemoteJoin
	reqRemoteLeave      = rediswire.ReqRemoteLeave
	reqRemoteDisconnect = rediswire.ReqRemoteDisconnect
	reqRemoteFetch      = rediswire.ReqRemoteFetch
	reqServerSideEmit   = rediswire.ReqServerSideEmit
	reqBroadcast        = rediswire.ReqBroadcast
	reqClientCount      = rediswire.ReqBroadcastClientCount
	reqBroadcastAck     = rediswire.ReqBroadcastAck
)

// classic is the wire format of the reference's createAdapter: broadcasts
// on key#nsp# (plus room# for a single room), requests on
// key-request#nsp#, answers on key-response#nsp#.
type classic struct {
	a                                        *Adapter
	channel, requestChannel, responseChannel string
	specificResponseChannel                  string
}

func newClassic(a *Adapter) *classic {
	key, nsp := a.h.opts.Key, a.nsp.Name()
	c := &classic{
		a:               a,
		channel:         rediswire.Channel(key, nsp),
		requestChannel:  rediswire.RequestChannel(key, nsp),
		responseChannel: rediswire.ResponseChannel(key, nsp),
	}
	c.specificResponseChannel = c.responseChannel + a.uid + "#"
	return c
}

func (c *classic) routes() []routeSpec {
	return []routeSpec{
		{sub{subPattern, c.channel + "*"}, c.onBroadcast},
		{sub{subChannel, c.requestChannel}, c.onRequest},
		{sub{subChannel, c.responseChannel}, c.onResponse},
		{sub{subChannel, c.specificResponseChannel}, c.onResponse},
	}
}

func (c *classic) serverCount(ctx context.Context) (int, error) {
	return numSub(ctx, c.a.h.client, false, c.requestChannel)
}

// numSub counts the subscribers of channel, on every master of a cluster.
func numSub(ctx context.Context, client redis.UniversalClient, sharded bool, channel string) (int, error) {
	one := func(ctx context.Context, c redis.Cmdable) (int64, error) {
		var cmd *redis.MapStringIntCmd
		if sharded {
			cmd = c.PubSubShardNumSub(ctx, channel)
		} else {
			cmd = c.PubSubNumSub(ctx, channel)
		}
		m, err := cmd.Result()
		return m[channel], err
	}
	if cc, ok := client.(*redis.ClusterClient); ok {
		var total atomic.Int64
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := one(ctx, c)
			total.Add(n)
			return err
		})
		return int(total.Load()), err
	}
	n, err := one(ctx, client)
	return int(n), err
}

func (c *classic) publish(channel string, payload []byte) {
	m := outMsg{channel: channel, payload: payload, class: channel, via: sub{subChannel, channel}}
	if strings.HasPrefix(channel, c.channel) {
		// Every node gets the broadcasts of a namespace, whatever their
		// room, through one pattern.
		m.class, m.via = c.channel, sub{subPattern, c.channel + "*"}
	}
	c.a.r.publish(m)
}

func (c *classic) publishJSON(channel string, m notepack.Map) {
	b, err := encodeJSON(m)
	if err != nil {
		c.a.h.log.Warn("redis adapter: message not encodable", "err", err)
		return
	}
	c.publish(channel, b)
}

func (c *classic) broadcast(p *parser.Packet, opts *sockio.BroadcastOptions) error {
	pkt, err := wire.Packet(p, c.a.nsp.Name())
	if err != nil {
		return err
	}
	msg, err := notepack.Append(nil, []any{c.a.uid, pkt, wire.Options(opts, true)})
	if err != nil {
		return err
	}
	channel := c.channel
	if len(opts.Rooms) == 1 {
		channel += opts.Rooms[0] + "#"
	}
	c.publish(channel, msg)
	return nil
}

func (c *classic) broadcastWithAck(id string, p *parser.Packet, opts *sockio.BroadcastOptions) error {
	pkt, err := wire.Packet(p, c.a.nsp.Name())
	if err != nil {
		return err
	}
	msg, err := notepack.Append(nil, notepack.Map{
		{Key: "uid", Value: c.a.uid},
		{Key: "requestId", Value: id},
		{Key: "type", Value: reqBroadcast},
		{Key: "packet", Value: pkt},
		{Key: "opts", Value: wire.Options(opts, true)},
	})
	if err != nil {
		return err
	}
	c.publish(c.requestChannel, msg)
	return nil
}

func (c *classic) socketsOp(kind inKind, opts *sockio.BroadcastOptions, rooms []string, close bool) {
	m := notepack.Map{{Key: "uid", Value: c.a.uid}}
	switch kind {
	case inJoin:
		m = append(m, notepack.KV{Key: "type", Value: reqRemoteJoin})
	case inLeave:
		m = append(m, notepack.KV{Key: "type", Value: reqRemoteLeave})
	default:
		m = append(m, notepack.KV{Key: "type", Value: reqRemoteDisconnect})
	}
	m = append(m, notepack.KV{Key: "opts", Value: wire.Options(opts, false)})
	if kind == inDisconnect {
		m = append(m, notepack.KV{Key: "close", Value: close})
	} else {
		m = append(m, notepack.KV{Key: "rooms", Value: wire.StringsOrEmpty(rooms)})
	}
	c.publishJSON(c.requestChannel, m)
}

func (c *classic) fetchSockets(id string, opts *sockio.BroadcastOptions) {
	c.publishJSON(c.requestChannel, notepack.Map{
		{Key: "uid", Value: c.a.uid},
		{Key: "requestId", Value: id},
		{Key: "type", Value: reqRemoteFetch},
		{Key: "opts", Value: wire.Options(opts, false)},
	})
}

func (c *classic) allRooms(id string) error {
	c.publishJSON(c.requestChannel, notepack.Map{
		{Key: "uid", Value: c.a.uid},
		{Key: "requestId", Value: id},
		{Key: "type", Value: reqAllRooms},
	})
	return nil
}

func (c *classic) serverSideEmit(id string, data []any) error {
	m := notepack.Map{{Key: "uid", Value: c.a.uid}}
	if id != "" {
		m = append(m, notepack.KV{Key: "requestId", Value: id})
	}
	m = append(m, notepack.KV{Key: "type", Value: reqServerSideEmit}, notepack.KV{Key: "data", Value: data})
	b, err := encodeJSON(m)
	if err != nil {
		return err
	}
	c.publish(c.requestChannel, b)
	return nil
}

// responseTo is where the answer to in goes: the shared response channel,
// or the requester's own with PublishOnSpecificResponseChannel.
func (c *classic) responseTo(in *incoming) string {
	if c.a.h.opts.PublishOnSpecificResponseChannel && in.uid != "" {
		return c.responseChannel + in.uid + "#"
	}
	return c.responseChannel
}

func (c *classic) respond(in *incoming, kind inKind, body any) {
	id := notepack.KV{Key: "requestId", Value: in.requestID}
	switch kind {
	case resFetch:
		c.publishJSON(c.responseTo(in), notepack.Map{id, {Key: "sockets", Value: body}})
	case resSockets:
		c.publishJSON(c.responseTo(in), notepack.Map{id, {Key: "sockets", Value: body}})
	case resAllRooms:
		c.publishJSON(c.responseTo(in), notepack.Map{id, {Key: "rooms", Value: wire.StringsOrEmpty(body.([]string))}})
	case resDone:
		c.publishJSON(c.responseTo(in), notepack.Map{id})
	case resServerSideEmit:
		// The reference always answers these on the shared channel.
		c.publishJSON(c.responseChannel, notepack.Map{{Key: "type", Value: reqServerSideEmit}, id, {Key: "data", Value: body}})
	case resClientCount:
		c.publishJSON(c.responseTo(in), notepack.Map{{Key: "type", Value: reqClientCount}, id, {Key: "clientCount", Value: body}})
	case resAck:
		b, err := notepack.Append(nil, notepack.Map{{Key: "type", Value: reqBroadcastAck}, id, {Key: "packet", Value: body}})
		if err != nil {
			c.a.h.log.Warn("redis adapter: acknowledgement not encodable", "err", err)
			return
		}
		c.publish(c.responseTo(in), b)
	}
}

// onBroadcast receives [uid, packet, opts] on key#nsp#[room#].
func (c *classic) onBroadcast(channel string, payload []byte) {
	if !strings.HasPrefix(channel, c.channel) || c.fromSelf(payload) {
		return
	}
	c.a.onMessage(channel, func() (*incoming, error) {
		v, err := notepack.Unmarshal(payload)
		if err != nil {
			return nil, err
		}
		arr, ok := v.([]any)
		if !ok || len(arr) < 3 {
			return nil, fmt.Errorf("%w: not [uid, packet, opts]", wire.ErrMalformed)
		}
		if uid, _ := wire.String(arr[0]); uid == c.a.uid || wire.PacketNamespace(arr[1]) != c.a.nsp.Name() {
			return nil, nil
		}
		p, err := wire.ReadPacket(arr[1], c.a.nsp.Name())
		if err != nil {
			return nil, err
		}
		opts, err := wire.ReadOptions(arr[2])
		if err != nil {
			return nil, err
		}
		return &incoming{kind: inBroadcast, packet: p, opts: opts}, nil
	})
}

// fromSelf tells our own broadcasts without decoding them: they start
// with a 3-element array and our uid as a short string.
func (c *classic) fromSelf(payload []byte) bool {
	uid := c.a.uid
	return len(payload) > 2+len(uid) && payload[0] == 0x93 && payload[1] == 0xa0|byte(len(uid)) &&
		string(payload[2:2+len(uid)]) == uid
}

func (c *classic) onRequest(channel string, payload []byte) {
	c.a.onMessage(channel, func() (*incoming, error) {
		v, err := decodeMessage(payload)
		if err != nil {
			return nil, err
		}
		uid, _ := wire.String(wire.Field(v, "uid"))
		if uid == c.a.uid {
			return nil, nil // ours, already done here
		}
		typ, _ := wire.Int(wire.Field(v, "type"))
		in := &incoming{uid: uid}
		in.requestID, _ = wire.String(wire.Field(v, "requestId"))
		switch typ {
		case reqSockets:
			in.kind, in.rooms = inSockets, wire.Rooms(wire.Field(v, "rooms"))
		case reqAllRooms:
			in.kind = inAllRooms
		case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
			if wire.Has(v, "opts") {
				in.kind = [...]inKind{reqRemoteJoin: inJoin, reqRemoteLeave: inLeave, reqRemoteDisconnect: inDisconnect}[typ]
				if in.opts, err = wire.ReadOptions(wire.Field(v, "opts")); err != nil {
					return nil, err
				}
			} else {
				in.kind = [...]inKind{reqRemoteJoin: inRemoteJoin, reqRemoteLeave: inRemoteLeave, reqRemoteDisconnect: inRemoteDisconnect}[typ]
				in.sid, _ = wire.String(wire.Field(v, "sid"))
				in.room, _ = wire.Room(wire.Field(v, "room"))
			}
			in.rooms = wire.Rooms(wire.Field(v, "rooms"))
			in.close = wire.Field(v, "close") == true
		case reqRemoteFetch:
			in.kind = inFetch
			if in.opts, err = wire.ReadOptions(wire.Field(v, "opts")); err != nil {
				return nil, err
			}
		case reqServerSideEmit:
			data, ok := wire.Field(v, "data").([]any)
			if !ok || len(data) == 0 || !wire.IsEventName(data[0]) {
				return nil, fmt.Errorf("%w: server-side emit data", wire.ErrMalformed)
			}
			in.kind, in.data = inServerSideEmit, data
		case reqBroadcast:
			if wire.PacketNamespace(wire.Field(v, "packet")) != c.a.nsp.Name() {
				return nil, nil
			}
			p, err := wire.ReadPacket(wire.Field(v, "packet"), c.a.nsp.Name())
			if err != nil {
				return nil, err
			}
			in.kind, in.packet = inBroadcastAck, p
			if in.opts, err = wire.ReadOptions(wire.Field(v, "opts")); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: request type %v", wire.ErrMalformed, wire.Field(v, "type"))
		}
		return in, nil
	})
}

func (c *classic) onResponse(channel string, payload []byte) {
	if !c.a.waiting() {
		return // every node gets every answer; most are not for us
	}
	c.a.onMessage(channel, func() (*incoming, error) {
		v, err := decodeMessage(payload)
		if err != nil {
			return nil, err
		}
		in := &incoming{}
		in.requestID, _ = wire.String(wire.Field(v, "requestId"))
		typ, hasType := wire.Int(wire.Field(v, "type"))
		switch {
		case hasType && typ == reqClientCount:
			in.kind, in.count = resClientCount, wire.Count(wire.Field(v, "clientCount"))
		case hasType && typ == reqBroadcastAck:
			in.kind, in.hasValue = resAck, wire.Has(v, "packet")
			in.value = wire.Field(v, "packet")
		case hasType && typ == reqServerSideEmit:
			in.kind, in.hasValue = resServerSideEmit, wire.Has(v, "data")
			in.value = wire.Field(v, "data")
		case wire.Has(v, "sockets"):
			in.kind = resFetch
			in.sockets, _ = wire.Field(v, "sockets").([]any)
		case wire.Has(v, "rooms"):
			in.kind, in.rooms = resAllRooms, wire.Rooms(wire.Field(v, "rooms"))
		default:
			return nil, nil
		}
		return in, nil
	})
}

// waiting reports whether any request of the adapter waits for answers.
func (a *Adapter) waiting() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.requests) > 0 || len(a.acks) > 0
}
