package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/internal/notepack"
)

// MemoryBroker is an in-process Broker, with a Log and a SessionStore: for
// tests, and for several servers in one process. It is NOT a network
// broker: nodes of other processes never see its messages.
//
// Messages are encoded to MessagePack on Publish and decoded for each
// subscriber, as a network broker would, so the receivers read what a
// real broker would give them and share nothing with the sender.
type MemoryBroker struct {
	mu       sync.Mutex
	subs     map[string][]*memSub   // by namespace
	logs     map[string]*memLog     // by namespace
	sessions map[string]*memSession // by namespace + "\x00" + pid

	dropped atomic.Uint64
}

var (
	_ Broker            = (*MemoryBroker)(nil)
	_ Log               = (*MemoryBroker)(nil)
	_ SessionStore      = (*MemoryBroker)(nil)
	_ SessionBatchStore = (*MemoryBroker)(nil)
)

// Bounds of a MemoryBroker: messages kept per namespace for recovery,
// messages waiting per subscriber (past it they are dropped, counted),
// sessions kept.
const (
	MemoryLogLength   = 10_000
	memoryQueueLength = 65_536
	memoryMaxSessions = 100_000
)

// NewMemoryBroker returns an empty in-process broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{
		subs:     make(map[string][]*memSub),
		logs:     make(map[string]*memLog),
		sessions: make(map[string]*memSession),
	}
}

// Dropped counts the deliveries dropped because a subscriber's queue was
// full.
func (b *MemoryBroker) Dropped() uint64 { return b.dropped.Load() }

type memLog struct {
	first   uint64 // sequence number of entries[0]
	entries [][]byte
}

type memSession struct {
	s       sockio.Session
	expires time.Time
}

type delivery struct {
	payload  []byte
	offset   string
	response bool
}

// memSub delivers to one handler, in order, from its own goroutine.
type memSub struct {
	b   *MemoryBroker
	nsp string
	uid string
	h   Handler

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []delivery
	done   bool
	exited chan struct{}
}

// Subscribe implements Broker.
func (b *MemoryBroker) Subscribe(ctx context.Context, nsp, uid string, h Handler) (Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &memSub{b: b, nsp: nsp, uid: uid, h: h, exited: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	b.mu.Lock()
	b.subs[nsp] = append(b.subs[nsp], s)
	b.mu.Unlock()
	go s.run()
	return s, nil
}

func (s *memSub) run() {
	defer close(s.exited)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.done {
			s.cond.Wait()
		}
		if s.done {
			s.mu.Unlock()
			return
		}
		d := s.queue[0]
		s.queue[0] = delivery{}
		s.queue = s.queue[1:]
		s.mu.Unlock()
		m, err := DecodeMessage(d.payload)
		if err != nil {
			continue // we encoded it: cannot happen
		}
		if d.response {
			s.h.HandleResponse(m)
		} else {
			s.h.HandleMessage(m, d.offset)
		}
	}
}

func (s *memSub) push(d delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	if len(s.queue) >= memoryQueueLength {
		s.b.dropped.Add(1)
		return
	}
	s.queue = append(s.queue, d)
	s.cond.Signal()
}

// Cancel implements Subscription.
func (s *memSub) Cancel() error {
	b := s.b
	b.mu.Lock()
	list := b.subs[s.nsp]
	for i, x := range list {
		if x == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(b.subs, s.nsp)
	} else {
		b.subs[s.nsp] = list
	}
	b.mu.Unlock()
	s.mu.Lock()
	s.done = true
	s.queue = nil
	s.cond.Signal()
	s.mu.Unlock()
	<-s.exited
	return nil
}

// EncodeMessage writes m as MessagePack {uid, nsp, type, data}, the
// ClusterMessage's fields: the MemoryBroker's format, and a reasonable
// one for any broker that carries bytes.
func EncodeMessage(m *Message) ([]byte, error) {
	b, err := notepack.Append(nil, notepack.Map{
		{Key: "uid", Value: m.UID},
		{Key: "nsp", Value: m.NSP},
		{Key: "type", Value: int64(m.Type)},
		{Key: "data", Value: m.Data},
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: encode message: %w", err)
	}
	return b, nil
}

// DecodeMessage reads what EncodeMessage wrote (a message of a Node.js
// peer in the same shape, JSON or MessagePack, too).
func DecodeMessage(b []byte) (*Message, error) {
	var v any
	var err error
	if len(b) > 0 && b[0] == '{' {
		v, err = notepack.ParseJSON(b, nil)
	} else {
		v, err = notepack.Unmarshal(b)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: decode message: %w", err)
	}
	if !wire.IsObject(v) {
		return nil, fmt.Errorf("cluster: decode message: %w: not an object", wire.ErrMalformed)
	}
	typ, ok := wire.Int(wire.Field(v, "type"))
	if !ok {
		return nil, fmt.Errorf("cluster: decode message: %w: type", wire.ErrMalformed)
	}
	m := &Message{Type: MessageType(typ), Data: wire.Field(v, "data")}
	m.UID, _ = wire.String(wire.Field(v, "uid"))
	m.NSP, _ = wire.String(wire.Field(v, "nsp"))
	return m, nil
}

// Publish implements Broker: the message goes into the namespace's log,
// then to every subscriber of the namespace, the sender's included.
func (b *MemoryBroker) Publish(ctx context.Context, m *Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	payload, err := EncodeMessage(m)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.logs[m.NSP]
	if l == nil {
		l = &memLog{}
		b.logs[m.NSP] = l
	}
	l.entries = append(l.entries, payload)
	if len(l.entries) > MemoryLogLength {
		cut := len(l.entries) - MemoryLogLength
		clear(l.entries[:cut])
		l.entries = l.entries[cut:]
		l.first += uint64(cut)
	}
	offset := strconv.FormatUint(l.first+uint64(len(l.entries))-1, 10)
	for _, s := range b.subs[m.NSP] {
		s.push(delivery{payload: payload, offset: offset})
	}
	return offset, nil
}

// PublishResponse implements Broker.
func (b *MemoryBroker) PublishResponse(ctx context.Context, uid string, m *Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	payload, err := EncodeMessage(m)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs[m.NSP] {
		if s.uid == uid {
			s.push(delivery{payload: payload, response: true})
		}
	}
	return nil
}

// OffsetAfter implements Log: offsets are sequence numbers.
func (b *MemoryBroker) OffsetAfter(x, y string) bool {
	p, errP := strconv.ParseUint(x, 10, 64)
	q, errQ := strconv.ParseUint(y, 10, 64)
	return errP != nil || errQ != nil || p > q
}

// ReadFrom implements Log.
func (b *MemoryBroker) ReadFrom(ctx context.Context, nsp, offset string, fn func(m *Message, offset string) bool) error {
	seq, err := strconv.ParseUint(offset, 10, 64)
	if err != nil {
		return ErrOffsetGone
	}
	b.mu.Lock()
	l := b.logs[nsp]
	if l == nil || seq < l.first || seq >= l.first+uint64(len(l.entries)) {
		b.mu.Unlock()
		return ErrOffsetGone
	}
	after := append([][]byte(nil), l.entries[seq-l.first+1:]...)
	b.mu.Unlock()
	for i, payload := range after {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := DecodeMessage(payload)
		if err != nil {
			continue
		}
		if !fn(m, strconv.FormatUint(seq+1+uint64(i), 10)) {
			return nil
		}
	}
	return nil
}

// PersistSession implements SessionStore.
func (b *MemoryBroker) PersistSession(ctx context.Context, nsp string, s sockio.Session, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sessions) >= memoryMaxSessions {
		for k, ms := range b.sessions {
			if now.After(ms.expires) {
				delete(b.sessions, k)
			}
		}
		if len(b.sessions) >= memoryMaxSessions {
			return fmt.Errorf("cluster: memory broker: %d sessions kept already", len(b.sessions))
		}
	}
	b.sessions[nsp+"\x00"+s.PID] = &memSession{s: s, expires: now.Add(ttl)}
	return nil
}

// TakeSession implements SessionStore.
func (b *MemoryBroker) TakeSession(ctx context.Context, nsp, pid string) (*sockio.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := nsp + "\x00" + pid
	ms := b.sessions[k]
	if ms == nil {
		return nil, nil
	}
	delete(b.sessions, k)
	if time.Now().After(ms.expires) {
		return nil, nil
	}
	s := ms.s
	return &s, nil
}

// PersistSessions implements SessionBatchStore.
func (b *MemoryBroker) PersistSessions(ctx context.Context, nsp string, keep []sockio.Session, ttl time.Duration, drop []string) error {
	for _, s := range keep {
		if err := b.PersistSession(ctx, nsp, s, ttl); err != nil {
			return err
		}
	}
	b.mu.Lock()
	for _, pid := range drop {
		delete(b.sessions, nsp+"\x00"+pid)
	}
	b.mu.Unlock()
	return nil
}
