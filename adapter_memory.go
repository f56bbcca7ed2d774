package sockio

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sockio/sockio/parser"
)

// MemoryAdapter is the default Adapter: rooms in memory, delivery to this
// node's sockets. Cluster adapters embed it for their local part.
type MemoryAdapter struct {
	nsp *Namespace

	mu    sync.RWMutex
	rooms map[string]*stringSet // room → socket ids
	sids  map[string]*stringSet // socket id → rooms

	recovery *recoveryStore // nil unless connection-state recovery is on
	order    sync.Mutex     // a kept broadcast's offset and delivery (Broadcast)
}

var _ Adapter = (*MemoryAdapter)(nil)

// NewMemoryAdapter returns the in-memory adapter of nsp.
func NewMemoryAdapter(nsp *Namespace) *MemoryAdapter {
	a := &MemoryAdapter{
		nsp:   nsp,
		rooms: make(map[string]*stringSet),
		sids:  make(map[string]*stringSet),
	}
	if ro := nsp.server.opts.ConnectionStateRecovery; ro != nil {
		a.recovery = newRecoveryStore(ro)
	}
	return a
}

// Namespace returns the adapter's namespace.
func (a *MemoryAdapter) Namespace() *Namespace { return a.nsp }

// AddAll implements Adapter.
func (a *MemoryAdapter) AddAll(id string, rooms []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.sids[id]
	if mine == nil {
		mine = &stringSet{}
		a.sids[id] = mine
	}
	for _, r := range rooms {
		mine.add(r)
		members := a.rooms[r]
		if members == nil {
			members = &stringSet{}
			a.rooms[r] = members
		}
		members.add(id)
	}
}

// Del implements Adapter.
func (a *MemoryAdapter) Del(id, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine := a.sids[id]; mine != nil {
		mine.del(room)
	}
	a.delMemberLocked(room, id)
}

// DelAll implements Adapter.
func (a *MemoryAdapter) DelAll(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine := a.sids[id]; mine != nil {
		for room := range mine.all() {
			a.delMemberLocked(room, id)
		}
	}
	delete(a.sids, id)
}

func (a *MemoryAdapter) delMemberLocked(room, id string) {
	if members := a.rooms[room]; members != nil {
		members.del(id)
		if members.len() == 0 {
			delete(a.rooms, room)
		}
	}
}

// SocketRooms implements Adapter.
func (a *MemoryAdapter) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine := a.sids[id]
	if mine == nil {
		return nil
	}
	return slices.AppendSeq(make([]string, 0, mine.len()), mine.all())
}

// Rooms implements Adapter.
func (a *MemoryAdapter) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	return out
}

// Sockets implements Adapter.
func (a *MemoryAdapter) Sockets(rooms []string) []string {
	var out []string
	a.apply(&BroadcastOptions{Rooms: rooms}, func(s *Socket) { out = append(out, s.id) })
	return out
}

// apply calls fn for each local socket selected by opts. The selection is
// taken under the lock; fn runs outside it.
func (a *MemoryAdapter) apply(opts *BroadcastOptions, fn func(*Socket)) {
	ids := a.selectIDs(opts)
	for _, id := range ids {
		if s := a.nsp.socket(id); s != nil {
			fn(s)
		}
	}
}

func (a *MemoryAdapter) selectIDs(opts *BroadcastOptions) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	excluded := func(id string) bool {
		for _, r := range opts.Except {
			if members := a.rooms[r]; members != nil && members.has(id) {
				return true
			}
		}
		return false
	}
	if len(opts.Rooms) == 0 {
		ids := make([]string, 0, len(a.sids))
		for id := range a.sids {
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	if len(opts.Rooms) == 1 {
		members := a.rooms[opts.Rooms[0]]
		if members == nil {
			return nil
		}
		ids := make([]string, 0, members.len())
		for id := range members.all() {
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	seen := make(map[string]struct{})
	var ids []string
	for _, r := range opts.Rooms {
		members := a.rooms[r]
		if members == nil {
			continue
		}
		for id := range members.all() {
			if _, dup := seen[id]; dup || excluded(id) {
				continue
			}
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	return ids
}

// Broadcast implements Adapter: the packet is encoded once and the same
// bytes go to every socket.
func (a *MemoryAdapter) Broadcast(p *parser.Packet, opts *BroadcastOptions) {
	// With recovery on, events without ack that may not be dropped are
	// kept for replay (acks cannot be replayed, as in the reference).
	if a.recovery != nil && (p.Type == parser.Event || p.Type == parser.BinaryEvent) && !p.HasID && !opts.Flags.Volatile {
		// Offset and delivery as one step: a client's offset is the last
		// event it got, so two broadcasts must reach every client in the
		// order of their offsets, or a recovery would replay one it has
		// and skip one it has not.
		a.order.Lock()
		defer a.order.Unlock()
		a.Deliver(p, opts, a.recovery.store(p, opts))
		return
	}
	a.Deliver(p, opts, "")
}

// Deliver sends p to the selected local sockets as Broadcast does, but
// never keeps it for connection-state recovery: for cluster adapters whose
// broker keeps the broadcasts in a log of its own, with its own offsets.
// offset is p's place in that log (already p's last argument), "" when
// it is not kept: a socket being recovered drops what its replay holds.
func (a *MemoryAdapter) Deliver(p *parser.Packet, opts *BroadcastOptions, offset string) {
	enc := a.nsp.server.encode(p)
	var ev outgoingEvent
	a.apply(opts, func(s *Socket) { s.deliver(p, enc, &opts.Flags, &ev, offset) })
}

// Recovery returns the server's connection-state recovery options (with
// their defaults), nil when recovery is off.
func (a *MemoryAdapter) Recovery() *RecoveryOptions { return a.nsp.server.opts.ConnectionStateRecovery }

// BroadcastWithAck implements Adapter. Every socket gets the same ack id,
// so the packet is still encoded once.
//
// The timeout is one timer for the whole broadcast, not one per recipient:
// when it fires, the recipients that did not answer forget the ack (the
// caller's own timer reports the timeout). Once every recipient answered
// or left, the timer stops and lets the recipients go.
func (a *MemoryAdapter) BroadcastWithAck(p *parser.Packet, opts *BroadcastOptions, onCount func(int), onAck func(Args)) {
	id := a.nsp.nextAckID()
	p.ID, p.HasID = id, true
	enc := a.nsp.server.encode(p)
	w := &ackWait{id: id}
	var ev outgoingEvent
	a.apply(opts, func(s *Socket) {
		// Inline: onAck only records the answer, and a handler of this
		// very socket may be the one waiting for the broadcast's answers.
		if !s.registerAck(id, func(err error, res Args) {
			if err == nil {
				onAck(res)
			}
			w.done() // answered, or the socket left
		}, 0, true) {
			return
		}
		w.add(s)
		s.deliver(p, enc, &opts.Flags, &ev, "")
	})
	onCount(w.count())
	w.arm(opts.Flags.Timeout)
}

// ackWait is a broadcast's pending acks: the recipients still to answer,
// and the one timer that makes them forget.
type ackWait struct {
	id    uint64
	mu    sync.Mutex
	sent  []*Socket // nil once all answered or the timer fired
	n     int       // recipients
	left  int       // recipients that have not answered or left
	timer *time.Timer
}

func (w *ackWait) add(s *Socket) {
	w.mu.Lock()
	w.sent = append(w.sent, s)
	w.n++
	w.left++
	w.mu.Unlock()
}

func (w *ackWait) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *ackWait) done() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.left--; w.left == 0 {
		w.sent = nil
		if w.timer != nil {
			w.timer.Stop()
		}
	}
}

func (w *ackWait) arm(timeout time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if timeout <= 0 || w.left == 0 {
		w.sent = nil
		return
	}
	w.timer = time.AfterFunc(timeout, func() {
		w.mu.Lock()
		sent := w.sent
		w.sent = nil
		w.mu.Unlock()
		for _, s := range sent {
			s.expireAck(w.id)
		}
	})
}

// ServerCount implements Adapter: a single node.
func (a *MemoryAdapter) ServerCount(context.Context) (int, error) { return 1, nil }

// FetchSockets implements Adapter.
func (a *MemoryAdapter) FetchSockets(_ context.Context, opts *BroadcastOptions) ([]*RemoteSocket, error) {
	var out []*RemoteSocket
	a.apply(opts, func(s *Socket) {
		out = append(out, &RemoteSocket{ID: s.id, Handshake: s.hs, Rooms: s.Rooms(), Data: s.Data(), nsp: a.nsp})
	})
	return out, nil
}

// AddSockets implements Adapter.
func (a *MemoryAdapter) AddSockets(opts *BroadcastOptions, rooms []string) {
	a.apply(opts, func(s *Socket) { s.Join(rooms...) })
}

// DelSockets implements Adapter.
func (a *MemoryAdapter) DelSockets(opts *BroadcastOptions, rooms []string) {
	a.apply(opts, func(s *Socket) { s.Leave(rooms...) })
}

// DisconnectSockets implements Adapter.
func (a *MemoryAdapter) DisconnectSockets(opts *BroadcastOptions, close bool) {
	a.apply(opts, func(s *Socket) { s.disconnect(close) })
}

// ServerSideEmit implements Adapter: there is no other node to reach.
func (a *MemoryAdapter) ServerSideEmit(_ context.Context, _ []any, onDone func(error, []Args)) {
	if onDone != nil {
		onDone(nil, nil)
	}
}

// PersistSession implements Adapter.
func (a *MemoryAdapter) PersistSession(s Session) {
	if a.recovery != nil {
		a.recovery.persist(s)
	}
}

// TakeSession implements Adapter.
func (a *MemoryAdapter) TakeSession(_ context.Context, pid string) (*Session, error) {
	if a.recovery == nil {
		return nil, nil
	}
	return a.recovery.take(pid), nil
}

// ReadMissed implements Adapter.
func (a *MemoryAdapter) ReadMissed(_ context.Context, rooms []string, offset string) ([]*parser.Packet, string, bool, error) {
	if a.recovery == nil {
		return nil, "", false, nil
	}
	missed, through, ok := a.recovery.missed(rooms, offset)
	return missed, through, ok, nil
}

// OffsetAfter implements Adapter.
func (a *MemoryAdapter) OffsetAfter(x, y string) bool {
	return a.recovery == nil || a.recovery.after(x, y)
}

// Close implements Adapter.
func (a *MemoryAdapter) Close() error {
	if a.recovery != nil {
		a.recovery.close()
	}
	return nil
}
