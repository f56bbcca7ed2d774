package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/internal/rooms"
	"github.com/sockio/sockio/parser"
)

// PersistSession implements sockio.Adapter: with a broker that keeps a log
// and sessions, in the broker, where any node can take it back; otherwise
// in this node's memory.
func (a *Adapter) PersistSession(s sockio.Session) {
	if !a.logged {
		a.MemoryAdapter.PersistSession(s)
		return
	}
	a.persisting.RLock()
	defer a.persisting.RUnlock()
	if a.live != nil {
		a.live.disconnected(s.SID)
	}
	// Not a.ctx: a session is kept even while the adapter closes.
	ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.RequestsTimeout)
	defer cancel()
	if err := a.c.store.PersistSession(ctx, a.name, s, a.recovery.MaxDisconnectionDuration); err != nil {
		a.c.log.Warn("cluster adapter: session not kept for recovery", "nsp", a.name, "sid", s.SID, "err", err)
	}
}

// TakeSession implements sockio.Adapter: with a broker that keeps a log
// and sessions, the session is taken from the broker (once), wherever it
// was kept.
func (a *Adapter) TakeSession(ctx context.Context, pid string) (*sockio.Session, error) {
	if !a.logged {
		return a.MemoryAdapter.TakeSession(ctx, pid)
	}
	s, err := a.c.store.TakeSession(ctx, a.name, pid)
	if err != nil {
		return nil, fmt.Errorf("cluster adapter: take session: %w", err)
	}
	return s, nil
}

// ReadMissed implements sockio.Adapter: the events are read from the
// broker's log after offset, those sent to rooms, each with its own
// offset. An offset that left the log is not recovered (the client gets a
// new socket), as with the reference.
func (a *Adapter) ReadMissed(ctx context.Context, in []string, offset string) ([]*parser.Packet, string, bool, error) {
	if !a.logged {
		return a.MemoryAdapter.ReadMissed(ctx, in, offset)
	}
	var missed []*parser.Packet
	through := offset
	err := a.c.blog.ReadFrom(ctx, a.name, offset, func(m *Message, off string) bool {
		through = off
		if p := a.missed(m, in); p != nil {
			p.Data = wire.AppendArg(p.Data, off)
			missed = append(missed, p)
		}
		return ctx.Err() == nil
	})
	if errors.Is(err, ErrOffsetGone) {
		return nil, "", false, nil
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("cluster adapter: read missed events: %w", err)
	}
	return missed, through, true, nil
}

// OffsetAfter implements sockio.Adapter, with the broker's order of
// offsets.
func (a *Adapter) OffsetAfter(x, y string) bool {
	if !a.logged {
		return a.MemoryAdapter.OffsetAfter(x, y)
	}
	return a.c.blog.OffsetAfter(x, y)
}

// missed returns the packet of a logged message that a socket in rooms in
// should get on recovery: a broadcast without ack, not volatile, to its
// rooms; nil otherwise.
func (a *Adapter) missed(m *Message, in []string) *parser.Packet {
	if m == nil || m.Type != Broadcast || (m.NSP != "" && m.NSP != a.name) || wire.Has(m.Data, "requestId") {
		return nil
	}
	opts, err := wire.ReadOptions(wire.Field(m.Data, "opts"))
	if err != nil {
		a.c.malformed.add("nsp", a.name, "where", "log", "err", err)
		return nil
	}
	if opts.Flags.Volatile || !rooms.Included(in, opts.Rooms, opts.Except) {
		return nil
	}
	p, err := wire.ReadPacket(wire.Field(m.Data, "packet"), a.name)
	if err != nil {
		a.c.malformed.add("nsp", a.name, "where", "log", "err", err)
		return nil
	}
	return p
}
