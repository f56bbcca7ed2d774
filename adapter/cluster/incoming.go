package cluster

import (
	"context"
	"fmt"
	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/internal/notepack"
)

// handler receives an adapter's messages from the broker; a type of its
// own keeps HandleMessage out of the Adapter's API.
type handler struct{ a *Adapter }

// HandleMessage implements Handler.
func (h handler) HandleMessage(m *Message, offset string) {
	a := h.a
	if m == nil || m.NSP != a.name {
		return
	}
	if m.UID == a.uid {
		if m.Type == Broadcast && offset != "" && a.logged {
			a.ownBroadcast(m, offset)
		}
		return
	}
	switch m.Type {
	case InitialHeartbeat, Heartbeat, AdapterClose:
		a.heard(m.UID)
	}
	switch m.Type {
	case InitialHeartbeat:
		if a.c.counter == nil {
			a.publishAsync(Heartbeat, nil)
		}
	case Heartbeat:
	case AdapterClose:
		a.removeNode(m.UID, false)
	default:
		// A node is live from any message it sends, as in the reference;
		// a malformed one proves nothing.
		if err := a.onMessage(m, offset); err != nil {
			a.c.malformed.add("nsp", a.name, "type", int(m.Type), "from", m.UID, "err", err)
			return
		}
		a.heard(m.UID)
	}
}

// HandleResponse implements Handler.
func (h handler) HandleResponse(m *Message) {
	a := h.a
	if m == nil || m.UID == a.uid || m.NSP != a.name {
		return
	}
	if err := a.onResponse(m); err != nil {
		a.c.malformed.add("nsp", a.name, "type", int(m.Type), "from", m.UID, "err", err)
		return
	}
	a.heard(m.UID)
}

// requestID reads a message's requestId, which must be a string when
// present.
func requestID(d any) (id string, present bool, err error) {
	if !wire.Has(d, "requestId") {
		return "", false, nil
	}
	id, ok := wire.String(wire.Field(d, "requestId"))
	if !ok {
		return "", true, fmt.Errorf("%w: requestId", wire.ErrMalformed)
	}
	return id, true, nil
}

// ownBroadcast delivers to the local sockets a broadcast of this node
// that Broadcast left to the log (one kept for recovery), in the log's
// order; the node's other broadcasts went out at once.
func (a *Adapter) ownBroadcast(m *Message, offset string) {
	if wire.Has(m.Data, "requestId") {
		return
	}
	opts, err := wire.ReadOptions(wire.Field(m.Data, "opts"))
	if err != nil {
		return // we wrote it; another writer's would be malformed
	}
	p, err := wire.ReadPacket(wire.Field(m.Data, "packet"), a.name)
	if err != nil || !a.recoverable(p, opts) {
		return
	}
	a.deliver(p, opts, offset)
}

// onMessage carries out a message from another node (or an emitter).
func (a *Adapter) onMessage(m *Message, offset string) error {
	d := m.Data
	switch m.Type {
	case Broadcast, SocketsJoin, SocketsLeave, DisconnectSockets, FetchSockets:
	case ServerSideEmit:
		return a.onServerSideEmit(m)
	case FetchSocketsResponse, ServerSideEmitResponse, BroadcastClientCount, BroadcastAck:
		return a.onResponse(m)
	default:
		return fmt.Errorf("%w: message type %d", wire.ErrMalformed, m.Type)
	}
	opts, err := wire.ReadOptions(wire.Field(d, "opts"))
	if err != nil {
		return err
	}
	id, withID, err := requestID(d)
	if err != nil {
		return err
	}
	switch m.Type {
	case Broadcast:
		p, err := wire.ReadPacket(wire.Field(d, "packet"), a.name)
		if err != nil {
			return err
		}
		if !withID {
			a.deliver(p, opts, offset)
			return nil
		}
		if opts.Flags.Timeout <= 0 {
			opts.Flags.Timeout = a.c.opts.RequestsTimeout
		}
		from := m.UID
		a.MemoryAdapter.BroadcastWithAck(p, opts,
			func(n int) {
				a.respond(from, BroadcastClientCount, notepack.Map{{Key: "requestId", Value: id}, {Key: "clientCount", Value: n}})
			},
			func(res sockio.Args) {
				a.respond(from, BroadcastAck, notepack.Map{{Key: "requestId", Value: id}, {Key: "packet", Value: wire.FirstArg(res)}})
			})
	case SocketsJoin:
		a.MemoryAdapter.AddSockets(opts, wire.Rooms(wire.Field(d, "rooms")))
	case SocketsLeave:
		a.MemoryAdapter.DelSockets(opts, wire.Rooms(wire.Field(d, "rooms")))
	case DisconnectSockets:
		a.MemoryAdapter.DisconnectSockets(opts, wire.Field(d, "close") == true)
	case FetchSockets:
		if !withID {
			return fmt.Errorf("%w: fetchSockets without requestId", wire.ErrMalformed)
		}
		local, _ := a.MemoryAdapter.FetchSockets(context.Background(), opts)
		out := make([]any, 0, len(local))
		for _, rs := range local {
			out = append(out, wire.Socket(rs))
		}
		a.respond(m.UID, FetchSocketsResponse, notepack.Map{{Key: "requestId", Value: id}, {Key: "sockets", Value: out}})
	}
	return nil
}

// onServerSideEmit hands an event from another node to the namespace's
// OnServerSideEmit handlers, on the callbacks goroutine.
func (a *Adapter) onServerSideEmit(m *Message) error {
	pkt, ok := wire.Field(m.Data, "packet").([]any)
	if !ok || len(pkt) == 0 || !wire.IsEventName(pkt[0]) {
		return fmt.Errorf("%w: server-side emit packet", wire.ErrMalformed)
	}
	id, withID, err := requestID(m.Data)
	if err != nil {
		return err
	}
	name := wire.EventName(pkt[0])
	args, err := wire.Args(pkt[1:])
	if err != nil {
		return fmt.Errorf("%w: %w", wire.ErrMalformed, err)
	}
	var ack func(args ...any)
	if withID {
		from := m.UID
		ack = wire.OnceAck(func(v any) {
			a.respond(from, ServerSideEmitResponse, notepack.Map{{Key: "requestId", Value: id}, {Key: "packet", Value: v}})
		}, func(err error) {
			a.c.log.Warn("cluster adapter: server-side acknowledgement not encodable", "err", err)
		})
	}
	a.call(func() { a.nsp.HandleServerSideEmit(name, args, ack) })
	return nil
}

// onResponse records an answer to one of this node's requests.
func (a *Adapter) onResponse(m *Message) error {
	d := m.Data
	id, ok := wire.String(wire.Field(d, "requestId"))
	if !ok {
		return fmt.Errorf("%w: response without requestId", wire.ErrMalformed)
	}
	switch m.Type {
	case FetchSocketsResponse:
		list, ok := wire.Field(d, "sockets").([]any)
		if !ok {
			return fmt.Errorf("%w: sockets", wire.ErrMalformed)
		}
		a.answer(id, FetchSockets, m.UID, func(req *request) {
			for _, v := range list {
				if rs := wire.RemoteSocket(a.nsp, v); rs != nil {
					req.sockets = append(req.sockets, rs)
				}
			}
		})
	case ServerSideEmitResponse:
		args := wire.AnswerArgs(wire.Field(d, "packet"), wire.Has(d, "packet"))
		a.answer(id, ServerSideEmit, m.UID, func(req *request) { req.responses = append(req.responses, args) })
	case BroadcastClientCount:
		if ar := a.ackRequest(id); ar != nil {
			ar.onCount(wire.Count(wire.Field(d, "clientCount")))
		}
	case BroadcastAck:
		if ar := a.ackRequest(id); ar != nil {
			ar.onAck(wire.AnswerArgs(wire.Field(d, "packet"), wire.Has(d, "packet")))
		}
	default:
		return fmt.Errorf("%w: response type %d", wire.ErrMalformed, m.Type)
	}
	return nil
}

func (a *Adapter) ackRequest(id string) *ackRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acks[id]
}
