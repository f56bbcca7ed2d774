package redis

import (
	"sync"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/redis/rediswire"
)

// newShardedAdapter makes the adapter of nsp in sharded mode: the
// cluster core's, on the hub's sharded broker, plus room subscriptions in
// the dynamic modes.
func newShardedAdapter(h *hub, nsp *sockio.Namespace) *Adapter {
	core := h.core(nsp).(*cluster.Adapter)
	bs := h.broker.subscription(nsp.Name(), core.UID())
	a := &Adapter{
		MemoryAdapter: core.MemoryAdapter,
		core:          core,
		nsp:           nsp,
		h:             h,
		r:             bs.r,
		uid:           core.UID(),
		subs:          []sub{{subShard, bs.channel}, {subShard, bs.response}},
	}
	if h.opts.SubscriptionMode != Static {
		a.rooms = &roomSubs{a: a, bs: bs, mode: h.opts.SubscriptionMode, refs: make(map[string]int)}
	}
	return a
}

// roomSubs subscribes a sharded adapter to the channel of each room with
// local members, in the dynamic modes, as the reference does on its
// create-room and delete-room events.
type roomSubs struct {
	a    *Adapter
	bs   *shardedSub
	mode SubscriptionMode

	mu   sync.Mutex
	refs map[string]int // room → local members, when the room has a channel
}

// wants reports whether room gets its own channel.
func (rs *roomSubs) wants(room string) bool {
	return rs.mode == rediswire.DynamicPrivate || rs.a.nsp.Socket(room) == nil
}

func (rs *roomSubs) roomSub(room string) sub {
	return sub{subShard, rediswire.RoomChannel(rs.a.h.opts.Key, rs.a.nsp.Name(), room)}
}

// added records that a socket joined rooms it was not in.
func (rs *roomSubs) added(rooms []string) {
	for _, r := range rooms {
		n, known := rs.refs[r]
		if !known {
			if !rs.wants(r) {
				rs.refs[r] = -1 // counted, never subscribed
				continue
			}
			rs.a.r.addRoute(rs.roomSub(r), rs.a, rs.bs.onMessage)
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
