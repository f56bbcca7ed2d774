package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/adapter/redis/rediswire"
	"github.com/sockio/sockio/internal/notepack"
)

// shardedBroker carries the cluster core's messages in the format of the
// reference's createShardedAdapter: {type, data, uid, nsp} over SPUBLISH
// on key#nsp# (or key#nsp#room# for a broadcast to one room with a
// channel), answers on key#nsp#uid#; JSON, or MessagePack when they carry
// binary. It counts the nodes with SHARDNUMSUB, as the reference does
// (its Node.js nodes send no heartbeats), so it is a
// cluster.ServerCounter. Publishing goes through the hub's bounded queue,
// with its loss accounting (Stats).
type shardedBroker struct {
	h *hub

	mu   sync.Mutex
	subs map[string]*shardedSub // by nsp + "\x00" + uid
}

var (
	_ cluster.Broker        = (*shardedBroker)(nil)
	_ cluster.ServerCounter = (*shardedBroker)(nil)
)

var errNotRunning = errors.New("redis adapter: closed")

// shardedSub is one namespace adapter's subscription.
type shardedSub struct {
	b        *shardedBroker
	r        *run
	nsp, uid string
	h        cluster.Handler
	channel  string // key#nsp#
	response string // key#nsp#uid#

	mu     sync.RWMutex
	closed bool
}

// Subscribe implements cluster.Broker. The subscriptions are wanted at
// once and confirmed by Redis later (Adapter.WaitSubscribed waits for
// that); go-redis renews them after a reconnection.
func (b *shardedBroker) Subscribe(_ context.Context, nsp, uid string, h cluster.Handler) (cluster.Subscription, error) {
	key := b.h.opts.Key
	s := &shardedSub{b: b, r: b.h.acquire(), nsp: nsp, uid: uid, h: h,
		channel: rediswire.Channel(key, nsp), response: rediswire.ShardedResponseChannel(key, nsp, uid)}
	s.r.addRoute(sub{subShard, s.channel}, s, s.onMessage)
	s.r.addRoute(sub{subShard, s.response}, s, s.onResponse)
	b.mu.Lock()
	b.subs[nsp+"\x00"+uid] = s
	b.mu.Unlock()
	return s, nil
}

// subscription returns the subscription of node uid for nsp.
func (b *shardedBroker) subscription(nsp, uid string) *shardedSub {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.subs[nsp+"\x00"+uid]
}

// Cancel implements cluster.Subscription.
func (s *shardedSub) Cancel() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.b.mu.Lock()
	delete(s.b.subs, s.nsp+"\x00"+s.uid)
	s.b.mu.Unlock()
	s.r.removeRoute(sub{subShard, s.channel}, s)
	s.r.removeRoute(sub{subShard, s.response}, s)
	s.b.h.release()
	return nil
}

// running returns the hub's current run, nil if no namespace is open.
func (b *shardedBroker) running() *run {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	return b.h.cur
}

// Publish implements cluster.Broker: queued, never blocking (a full queue
// or Redis down drops it, counted in Stats.NotPublished).
func (b *shardedBroker) Publish(_ context.Context, m *cluster.Message) (string, error) {
	data, _ := m.Data.(notepack.Map)
	channel := rediswire.Channel(b.h.opts.Key, m.NSP)
	if m.Type == cluster.Broadcast && !wire.Has(data, "requestId") {
		// A broadcast with acks stays on the namespace's channel: the
		// server count is the namespace's.
		rooms := wire.Rooms(wire.Field(wire.Field(data, "opts"), "rooms"))
		channel, _ = rediswire.ShardedBroadcastChannel(b.h.opts.Key, m.NSP, b.h.opts.SubscriptionMode, rooms)
	}
	return "", b.send(channel, m, data)
}

// PublishResponse implements cluster.Broker.
func (b *shardedBroker) PublishResponse(_ context.Context, uid string, m *cluster.Message) error {
	data, _ := m.Data.(notepack.Map)
	return b.send(rediswire.ShardedResponseChannel(b.h.opts.Key, m.NSP, uid), m, data)
}

func (b *shardedBroker) send(channel string, m *cluster.Message, data notepack.Map) error {
	payload, err := rediswire.EncodeSharded(int(m.Type), data, m.UID, m.NSP)
	if err != nil {
		return err
	}
	r := b.running()
	if r == nil {
		return errNotRunning
	}
	r.publish(outMsg{channel: channel, payload: payload, sharded: true, class: channel, via: sub{subShard, channel}})
	return nil
}

// ServerCount implements cluster.ServerCounter: the subscribers of the
// namespace's channel, as the reference's SHARDNUMSUB.
func (b *shardedBroker) ServerCount(ctx context.Context, nsp string) (int, error) {
	return numSub(ctx, b.h.client, true, rediswire.Channel(b.h.opts.Key, nsp))
}

// decode reads a sharded message; the core reads its data.
func (s *shardedSub) decode(channel string, payload []byte) *cluster.Message {
	v, err := decodeMessage(payload)
	if err == nil && !wire.IsObject(v) {
		err = fmt.Errorf("%w: not an object", wire.ErrMalformed)
	}
	var typ int
	if err == nil {
		var ok bool
		if typ, ok = wire.Int(wire.Field(v, "type")); !ok {
			err = fmt.Errorf("%w: message type %v", wire.ErrMalformed, wire.Field(v, "type"))
		}
	}
	if err != nil {
		s.b.h.malformed.add(1, "nsp", s.nsp, "channel", channel, "err", err)
		return nil
	}
	uid, _ := wire.String(wire.Field(v, "uid"))
	return &cluster.Message{UID: uid, NSP: wire.PacketNamespace(v), Type: cluster.MessageType(typ), Data: wire.Field(v, "data")}
}

// onMessage receives the messages of the namespace (and of its rooms).
func (s *shardedSub) onMessage(channel string, payload []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	if m := s.decode(channel, payload); m != nil {
		s.h.HandleMessage(m, "")
	}
}

// onResponse receives the answers to this node's requests.
func (s *shardedSub) onResponse(channel string, payload []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	if m := s.decode(channel, payload); m != nil {
		s.h.HandleResponse(m)
	}
}

// NewBroker returns a cluster.Broker over Redis 7 sharded Pub/Sub (SPUBLISH
// on key#nsp#, the format of the reference's sharded adapter), with its
// own subscriber connection: for the cluster core's other users beside a
// classic adapter, such as cluster.NewPeers (request forwarding), or for
// cluster.NewAdapter.
func NewBroker(client redis.UniversalClient, opts Options) cluster.Broker {
	h := newHub(client, opts.withDefaults())
	h.broker = &shardedBroker{h: h, subs: make(map[string]*shardedSub)}
	return h.broker
}
