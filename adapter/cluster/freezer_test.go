package cluster

import (
	"context"
	"sync"
)

// freezer is a MemoryBroker that can cut nodes off, as a frozen process
// (SIGSTOP) or a partition would: a frozen node neither hears nor says
// anything; a muted node hears everything and its answers are lost.
type freezer struct {
	*MemoryBroker
	mu     sync.Mutex
	frozen map[string]bool
	muted  map[string]bool
}

func newFreezer() *freezer {
	return &freezer{MemoryBroker: NewMemoryBroker(), frozen: map[string]bool{}, muted: map[string]bool{}}
}

func (f *freezer) freeze(uid string) { f.mu.Lock(); f.frozen[uid] = true; f.mu.Unlock() }
func (f *freezer) mute(uid string)   { f.mu.Lock(); f.muted[uid] = true; f.mu.Unlock() }

func (f *freezer) unfreeze() {
	f.mu.Lock()
	clear(f.frozen)
	clear(f.muted)
	f.mu.Unlock()
}

func (f *freezer) is(set map[string]bool, uid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return set[uid]
}

func (f *freezer) Subscribe(ctx context.Context, nsp, uid string, h Handler) (Subscription, error) {
	return f.MemoryBroker.Subscribe(ctx, nsp, uid, frozenHandler{f, uid, h})
}

func (f *freezer) Publish(ctx context.Context, m *Message) (string, error) {
	if f.is(f.frozen, m.UID) {
		return "", nil
	}
	return f.MemoryBroker.Publish(ctx, m)
}

func (f *freezer) PublishResponse(ctx context.Context, uid string, m *Message) error {
	if f.is(f.frozen, m.UID) || f.is(f.muted, m.UID) {
		return nil
	}
	return f.MemoryBroker.PublishResponse(ctx, uid, m)
}

type frozenHandler struct {
	f   *freezer
	uid string
	h   Handler
}

func (h frozenHandler) HandleMessage(m *Message, offset string) {
	if !h.f.is(h.f.frozen, h.uid) {
		h.h.HandleMessage(m, offset)
	}
}

func (h frozenHandler) HandleResponse(m *Message) {
	if !h.f.is(h.f.frozen, h.uid) {
		h.h.HandleResponse(m)
	}
}
