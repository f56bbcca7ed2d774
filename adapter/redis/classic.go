package redis

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
	"github.com/sockio/sockio/parser"
)

// Request types of @socket.io/redis-adapter 8 (classic mode).
const (
	reqSockets          = 0
	reqAllRooms         = 1
	reqRemoteJoin       = 2
	reqRemoteLeave      = 3
	reqRemoteDisconnect = 4
	reqRemoteFetch      = 5
	reqServerSideEmit   = 6
	reqBroadcast        = 7
	reqClientCount      = 8
	reqBroadcastAck     = 9
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
		channel:         key + "#" + nsp + "#",
		requestChannel:  key + "-request#" + nsp + "#",
		responseChannel: key + "-response#" + nsp + "#",
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
	pkt, err := wirePacket(p, c.a.nsp.Name())
	if err != nil {
		return err
	}
	msg, err := notepack.Append(nil, []any{c.a.uid, pkt, wireOptions(opts, true)})
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
	pkt, err := wirePacket(p, c.a.nsp.Name())
	if err != nil {
		return err
	}
	msg, err := notepack.Append(nil, notepack.Map{
		{Key: "uid", Value: c.a.uid},
		{Key: "requestId", Value: id},
		{Key: "type", Value: reqBroadcast},
		{Key: "packet", Value: pkt},
		{Key: "opts", Value: wireOptions(opts, true)},
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
	m = append(m, notepack.KV{Key: "opts", Value: wireOptions(opts, false)})
	if kind == inDisconnect {
		m = append(m, notepack.KV{Key: "close", Value: close})
	} else {
		m = append(m, notepack.KV{Key: "rooms", Value: stringsOrEmpty(rooms)})
	}
	c.publishJSON(c.requestChannel, m)
}

func (c *classic) fetchSockets(id string, opts *sockio.BroadcastOptions) {
	c.publishJSON(c.requestChannel, notepack.Map{
		{Key: "uid", Value: c.a.uid},
		{Key: "requestId", Value: id},
		{Key: "type", Value: reqRemoteFetch},
		{Key: "opts", Value: wireOptions(opts, false)},
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
		c.publishJSON(c.responseTo(in), notepack.Map{id, {Key: "rooms", Value: stringsOrEmpty(body.([]string))}})
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
			return nil, fmt.Errorf("%w: not [uid, packet, opts]", errMalformed)
		}
		if uid, _ := asString(arr[0]); uid == c.a.uid || packetNamespace(arr[1]) != c.a.nsp.Name() {
			return nil, nil
		}
		p, err := readPacket(arr[1], c.a.nsp.Name())
		if err != nil {
			return nil, err
		}
		opts, err := readOptions(arr[2])
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
		uid, _ := asString(field(v, "uid"))
		if uid == c.a.uid {
			return nil, nil // ours, already done here
		}
		typ, _ := asInt(field(v, "type"))
		in := &incoming{uid: uid}
		in.requestID, _ = asString(field(v, "requestId"))
		switch typ {
		case reqSockets:
			in.kind, in.rooms = inSockets, asRooms(field(v, "rooms"))
		case reqAllRooms:
			in.kind = inAllRooms
		case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
			if hasField(v, "opts") {
				in.kind = [...]inKind{reqRemoteJoin: inJoin, reqRemoteLeave: inLeave, reqRemoteDisconnect: inDisconnect}[typ]
				if in.opts, err = readOptions(field(v, "opts")); err != nil {
					return nil, err
				}
			} else {
				in.kind = [...]inKind{reqRemoteJoin: inRemoteJoin, reqRemoteLeave: inRemoteLeave, reqRemoteDisconnect: inRemoteDisconnect}[typ]
				in.sid, _ = asString(field(v, "sid"))
				in.room, _ = asRoom(field(v, "room"))
			}
			in.rooms = asRooms(field(v, "rooms"))
			in.close = field(v, "close") == true
		case reqRemoteFetch:
			in.kind = inFetch
			if in.opts, err = readOptions(field(v, "opts")); err != nil {
				return nil, err
			}
		case reqServerSideEmit:
			data, ok := field(v, "data").([]any)
			if !ok || len(data) == 0 || !isEventName(data[0]) {
				return nil, fmt.Errorf("%w: server-side emit data", errMalformed)
			}
			in.kind, in.data = inServerSideEmit, data
		case reqBroadcast:
			if packetNamespace(field(v, "packet")) != c.a.nsp.Name() {
				return nil, nil
			}
			p, err := readPacket(field(v, "packet"), c.a.nsp.Name())
			if err != nil {
				return nil, err
			}
			in.kind, in.packet = inBroadcastAck, p
			if in.opts, err = readOptions(field(v, "opts")); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: request type %v", errMalformed, field(v, "type"))
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
		in.requestID, _ = asString(field(v, "requestId"))
		typ, hasType := asInt(field(v, "type"))
		switch {
		case hasType && typ == reqClientCount:
			in.kind, in.count = resClientCount, responseCount(field(v, "clientCount"))
		case hasType && typ == reqBroadcastAck:
			in.kind, in.hasValue = resAck, hasField(v, "packet")
			in.value = field(v, "packet")
		case hasType && typ == reqServerSideEmit:
			in.kind, in.hasValue = resServerSideEmit, hasField(v, "data")
			in.value = field(v, "data")
		case hasField(v, "sockets"):
			in.kind = resFetch
			in.sockets, _ = field(v, "sockets").([]any)
		case hasField(v, "rooms"):
			in.kind, in.rooms = resAllRooms, asRooms(field(v, "rooms"))
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
