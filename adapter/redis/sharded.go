package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
	"github.com/sockio/sockio/parser"
)

// Message types of socket.io-adapter's ClusterAdapter, which the
// reference's sharded adapter uses.
const (
	msgBroadcast              = 3
	msgSocketsJoin            = 4
	msgSocketsLeave           = 5
	msgDisconnectSockets      = 6
	msgFetchSockets           = 7
	msgFetchSocketsResponse   = 8
	msgServerSideEmit         = 9
	msgServerSideEmitResponse = 10
	msgBroadcastClientCount   = 11
	msgBroadcastAck           = 12
)

// sharded is the wire format of the reference's createShardedAdapter:
// messages {type, data, uid, nsp} over SPUBLISH, on key#nsp# (or
// key#nsp#room# in the dynamic modes), answers on key#nsp#uid#; JSON, or
// MessagePack when they carry binary.
type sharded struct {
	a               *Adapter
	mode            SubscriptionMode
	channel         string
	responseChannel string
}

func newSharded(a *Adapter) *sharded {
	ch := a.h.opts.Key + "#" + a.nsp.Name() + "#"
	return &sharded{a: a, mode: a.h.opts.SubscriptionMode, channel: ch, responseChannel: ch + a.uid + "#"}
}

func (s *sharded) routes() []routeSpec {
	return []routeSpec{
		{sub{subShard, s.channel}, s.onMessage},
		{sub{subShard, s.responseChannel}, s.onResponse},
	}
}

func (s *sharded) serverCount(ctx context.Context) (int, error) {
	return numSub(ctx, s.a.h.client, true, s.channel)
}

// looksLikeASocketID is the reference's test for a private room.
func looksLikeASocketID(room string) bool { return len(room) == 20 }

func (s *sharded) roomChannel(room string) string { return s.channel + room + "#" }

// send publishes {type, data, uid, nsp} on channel.
func (s *sharded) send(channel string, typ int, data notepack.Map) error {
	msg := notepack.Map{
		{Key: "type", Value: typ},
		{Key: "data", Value: data},
		{Key: "uid", Value: s.a.uid},
		{Key: "nsp", Value: s.a.nsp.Name()},
	}
	var b []byte
	var err error
	switch typ {
	case msgBroadcast, msgBroadcastAck, msgFetchSocketsResponse, msgServerSideEmit, msgServerSideEmitResponse:
		if notepack.HasBinary(data) {
			b, err = notepack.Append(nil, msg)
			break
		}
		fallthrough
	default:
		b, err = encodeJSON(msg)
	}
	if err != nil {
		return err
	}
	s.a.r.publish(outMsg{channel: channel, payload: b, sharded: true, class: channel, via: sub{subShard, channel}})
	return nil
}

func (s *sharded) broadcast(p *parser.Packet, opts *sockio.BroadcastOptions) error {
	pkt, err := wirePacket(p, s.a.nsp.Name())
	if err != nil {
		return err
	}
	channel := s.channel
	if len(opts.Rooms) == 1 && (s.mode == Dynamic && !looksLikeASocketID(opts.Rooms[0]) || s.mode == DynamicPrivate) {
		channel = s.roomChannel(opts.Rooms[0])
	}
	return s.send(channel, msgBroadcast, notepack.Map{
		{Key: "packet", Value: pkt},
		{Key: "opts", Value: wireOptions(opts, true)},
	})
}

func (s *sharded) broadcastWithAck(id string, p *parser.Packet, opts *sockio.BroadcastOptions) error {
	pkt, err := wirePacket(p, s.a.nsp.Name())
	if err != nil {
		return err
	}
	// Never on a room channel: the count of servers is for the namespace.
	return s.send(s.channel, msgBroadcast, notepack.Map{
		{Key: "packet", Value: pkt},
		{Key: "requestId", Value: id},
		{Key: "opts", Value: wireOptions(opts, true)},
	})
}

func (s *sharded) socketsOp(kind inKind, opts *sockio.BroadcastOptions, rooms []string, close bool) {
	var err error
	switch kind {
	case inJoin:
		err = s.send(s.channel, msgSocketsJoin, notepack.Map{{Key: "opts", Value: wireOptions(opts, true)}, {Key: "rooms", Value: stringsOrEmpty(rooms)}})
	case inLeave:
		err = s.send(s.channel, msgSocketsLeave, notepack.Map{{Key: "opts", Value: wireOptions(opts, true)}, {Key: "rooms", Value: stringsOrEmpty(rooms)}})
	default:
		err = s.send(s.channel, msgDisconnectSockets, notepack.Map{{Key: "opts", Value: wireOptions(opts, true)}, {Key: "close", Value: close}})
	}
	if err != nil {
		s.a.h.log.Warn("redis adapter: message not sent", "err", err)
	}
}

func (s *sharded) fetchSockets(id string, opts *sockio.BroadcastOptions) {
	if err := s.send(s.channel, msgFetchSockets, notepack.Map{{Key: "opts", Value: wireOptions(opts, true)}, {Key: "requestId", Value: id}}); err != nil {
		s.a.h.log.Warn("redis adapter: message not sent", "err", err)
	}
}

func (s *sharded) allRooms(string) error {
	return fmt.Errorf("the sharded protocol has no allRooms request: %w", errors.ErrUnsupported)
}

func (s *sharded) serverSideEmit(id string, data []any) error {
	m := notepack.Map{}
	if id != "" {
		m = append(m, notepack.KV{Key: "requestId", Value: id})
	}
	return s.send(s.channel, msgServerSideEmit, append(m, notepack.KV{Key: "packet", Value: data}))
}

func (s *sharded) respond(in *incoming, kind inKind, body any) {
	if in.uid == "" {
		return
	}
	id := notepack.KV{Key: "requestId", Value: in.requestID}
	var typ int
	var data notepack.Map
	switch kind {
	case resFetch:
		typ, data = msgFetchSocketsResponse, notepack.Map{id, {Key: "sockets", Value: body}}
	case resServerSideEmit:
		typ, data = msgServerSideEmitResponse, notepack.Map{id, {Key: "packet", Value: body}}
	case resClientCount:
		typ, data = msgBroadcastClientCount, notepack.Map{id, {Key: "clientCount", Value: body}}
	case resAck:
		typ, data = msgBroadcastAck, notepack.Map{id, {Key: "packet", Value: body}}
	default:
		return
	}
	if err := s.send(s.channel+in.uid+"#", typ, data); err != nil {
		s.a.h.log.Warn("redis adapter: answer not sent", "err", err)
	}
}

// onMessage receives the messages of the namespace (and of its rooms).
func (s *sharded) onMessage(channel string, payload []byte) {
	s.a.onMessage(channel, func() (*incoming, error) {
		v, err := decodeMessage(payload)
		if err != nil {
			return nil, err
		}
		uid, _ := asString(field(v, "uid"))
		if uid == s.a.uid || packetNamespace(v) != s.a.nsp.Name() {
			return nil, nil
		}
		typ, _ := asInt(field(v, "type"))
		data := field(v, "data")
		in := &incoming{uid: uid}
		in.requestID, _ = asString(field(data, "requestId"))
		switch typ {
		case msgBroadcast:
			p, err := readPacket(field(data, "packet"), s.a.nsp.Name())
			if err != nil {
				return nil, err
			}
			in.kind, in.packet = inBroadcast, p
			if hasField(data, "requestId") {
				in.kind = inBroadcastAck
			}
		case msgSocketsJoin, msgSocketsLeave:
			in.kind = inJoin
			if typ == msgSocketsLeave {
				in.kind = inLeave
			}
			in.rooms = asRooms(field(data, "rooms"))
		case msgDisconnectSockets:
			in.kind, in.close = inDisconnect, field(data, "close") == true
		case msgFetchSockets:
			in.kind = inFetch
		case msgServerSideEmit:
			pkt, ok := field(data, "packet").([]any)
			if !ok || len(pkt) == 0 || !isEventName(pkt[0]) {
				return nil, fmt.Errorf("%w: server-side emit packet", errMalformed)
			}
			in.kind, in.data = inServerSideEmit, pkt
			return in, nil
		case msgFetchSocketsResponse, msgServerSideEmitResponse, msgBroadcastClientCount, msgBroadcastAck:
			return s.response(typ, data, uid)
		default:
			return nil, fmt.Errorf("%w: message type %v", errMalformed, field(v, "type"))
		}
		if in.opts, err = readOptions(field(data, "opts")); err != nil {
			return nil, err
		}
		return in, nil
	})
}

func (s *sharded) onResponse(channel string, payload []byte) {
	s.a.onMessage(channel, func() (*incoming, error) {
		v, err := decodeMessage(payload)
		if err != nil {
			return nil, err
		}
		typ, _ := asInt(field(v, "type"))
		uid, _ := asString(field(v, "uid"))
		return s.response(typ, field(v, "data"), uid)
	})
}

func (s *sharded) response(typ int, data any, uid string) (*incoming, error) {
	in := &incoming{uid: uid}
	in.requestID, _ = asString(field(data, "requestId"))
	switch typ {
	case msgFetchSocketsResponse:
		in.kind = resFetch
		in.sockets, _ = field(data, "sockets").([]any)
	case msgServerSideEmitResponse:
		in.kind, in.value, in.hasValue = resServerSideEmit, field(data, "packet"), hasField(data, "packet")
	case msgBroadcastClientCount:
		in.kind, in.count = resClientCount, responseCount(field(data, "clientCount"))
	case msgBroadcastAck:
		in.kind, in.value, in.hasValue = resAck, field(data, "packet"), hasField(data, "packet")
	default:
		return nil, fmt.Errorf("%w: response type %d", errMalformed, typ)
	}
	return in, nil
}

// roomSubs subscribes a sharded adapter to the channel of each room with
// local members, in the dynamic modes, as the reference does on its
// create-room and delete-room events.
type roomSubs struct {
	a *Adapter
	s *sharded

	mu   sync.Mutex
	refs map[string]int // room → local members, when the room has a channel
}

// wants reports whether room gets its own channel.
func (rs *roomSubs) wants(room string) bool {
	return rs.s.mode == DynamicPrivate || rs.a.nsp.Socket(room) == nil
}

func (rs *roomSubs) roomSub(room string) sub { return sub{subShard, rs.s.roomChannel(room)} }

// added records that a socket joined rooms it was not in.
func (rs *roomSubs) added(rooms []string) {
	for _, r := range rooms {
		n, known := rs.refs[r]
		if !known {
			if !rs.wants(r) {
				rs.refs[r] = -1 // counted, never subscribed
				continue
			}
			rs.a.r.addRoute(rs.roomSub(r), rs.a, rs.s.onMessage)
		}
		if n >= 0 {
			rs.refs[r] = n + 1
		} else {
			rs.refs[r] = n - 1
		}
	}
}

// removed records that a socket left rooms.
func (rs *roomSubs) removed(rooms []string) {
	for _, r := range rooms {
		n, known := rs.refs[r]
		switch {
		case !known:
		case n == 1:
			delete(rs.refs, r)
			rs.a.r.removeRoute(rs.roomSub(r), rs.a)
		case n == -1:
			delete(rs.refs, r)
		case n > 0:
			rs.refs[r] = n - 1
		default:
			rs.refs[r] = n + 1
		}
	}
}

func (rs *roomSubs) closeAll() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for r, n := range rs.refs {
		if n > 0 {
			rs.a.r.removeRoute(rs.roomSub(r), rs.a)
		}
	}
	clear(rs.refs)
}

// AddAll implements sockio.Adapter.
func (a *Adapter) AddAll(id string, rooms []string) {
	if a.rooms == nil {
		a.MemoryAdapter.AddAll(id, rooms)
		return
	}
	a.rooms.mu.Lock()
	defer a.rooms.mu.Unlock()
	have := a.MemoryAdapter.SocketRooms(id)
	a.MemoryAdapter.AddAll(id, rooms)
	var fresh []string
	for _, r := range rooms {
		if !contains(have, r) && !contains(fresh, r) {
			fresh = append(fresh, r)
		}
	}
	a.rooms.added(fresh)
}

// Del implements sockio.Adapter.
func (a *Adapter) Del(id, room string) {
	if a.rooms == nil {
		a.MemoryAdapter.Del(id, room)
		return
	}
	a.rooms.mu.Lock()
	defer a.rooms.mu.Unlock()
	was := contains(a.MemoryAdapter.SocketRooms(id), room)
	a.MemoryAdapter.Del(id, room)
	if was {
		a.rooms.removed([]string{room})
	}
}

// DelAll implements sockio.Adapter.
func (a *Adapter) DelAll(id string) {
	if a.rooms == nil {
		a.MemoryAdapter.DelAll(id)
		return
	}
	a.rooms.mu.Lock()
	defer a.rooms.mu.Unlock()
	had := a.MemoryAdapter.SocketRooms(id)
	a.MemoryAdapter.DelAll(id)
	a.rooms.removed(had)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
