package redis

import (
	"context"
	"fmt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/parser"
)

// inKind is what a message from another node asks for or answers; both
// wire formats decode into an incoming of one of these kinds.
type inKind int

const (
	// requests
	inBroadcast inKind = iota + 1
	inBroadcastAck
	inJoin
	inLeave
	inDisconnect
	inFetch
	inAllRooms
	inServerSideEmit
	inSockets          // classic SOCKETS (type 0), from older peers
	inRemoteJoin       // classic REMOTE_JOIN of one socket (sid, room)
	inRemoteLeave      // classic REMOTE_LEAVE of one socket
	inRemoteDisconnect // classic REMOTE_DISCONNECT of one socket

	// responses
	resFetch
	resAllRooms
	resServerSideEmit
	resClientCount
	resAck
	resSockets
	resDone // answer to inRemoteJoin, inRemoteLeave, inRemoteDisconnect
)

func (k inKind) String() string {
	switch k {
	case inFetch:
		return "fetchSockets"
	case inAllRooms:
		return "allRooms"
	case inServerSideEmit:
		return "serverSideEmit"
	}
	return fmt.Sprintf("kind %d", int(k))
}

// incoming is a decoded message from another node (or an emitter).
type incoming struct {
	kind      inKind
	uid       string // the sender; "emitter" for an emitter, "" if absent
	requestID string

	packet *parser.Packet
	opts   *sockio.BroadcastOptions
	rooms  []string
	close  bool
	data   []any // server-side emit: event name, then arguments
	sid    string
	room   string

	sockets  []any // resFetch: wire sockets
	value    any   // resServerSideEmit, resAck: the answer (notepack.Undefined if none)
	count    int   // resClientCount
	hasValue bool
}

// handle carries out a message from another node.
func (a *Adapter) handle(in *incoming) {
	a.seen(in.uid)
	switch in.kind {
	case inBroadcast:
		a.MemoryAdapter.Broadcast(in.packet, in.opts)
	case inBroadcastAck:
		if in.opts.Flags.Timeout <= 0 {
			in.opts.Flags.Timeout = a.h.opts.RequestsTimeout
		}
		a.MemoryAdapter.BroadcastWithAck(in.packet, in.opts,
			func(n int) { a.wire.respond(in, resClientCount, n) },
			func(res sockio.Args) { a.wire.respond(in, resAck, wire.FirstArg(res)) })
	case inJoin:
		a.MemoryAdapter.AddSockets(in.opts, in.rooms)
	case inLeave:
		a.MemoryAdapter.DelSockets(in.opts, in.rooms)
	case inDisconnect:
		a.MemoryAdapter.DisconnectSockets(in.opts, in.close)
	case inFetch:
		local, _ := a.MemoryAdapter.FetchSockets(context.Background(), in.opts)
		out := make([]any, 0, len(local))
		for _, rs := range local {
			out = append(out, wire.Socket(rs))
		}
		a.wire.respond(in, resFetch, out)
	case inAllRooms:
		a.wire.respond(in, resAllRooms, a.MemoryAdapter.Rooms())
	case inSockets:
		a.wire.respond(in, resSockets, wire.StringsOrEmpty(a.MemoryAdapter.Sockets(in.rooms)))
	case inRemoteJoin, inRemoteLeave, inRemoteDisconnect:
		s := a.nsp.Socket(in.sid)
		if s == nil {
			return
		}
		switch in.kind {
		case inRemoteJoin:
			s.Join(in.room)
		case inRemoteLeave:
			s.Leave(in.room)
		default:
			if in.close {
				s.Close()
			} else {
				s.Disconnect()
			}
		}
		a.wire.respond(in, resDone, nil)
	case inServerSideEmit:
		a.serverSideEvent(in)

	case resFetch:
		a.answer(in.requestID, inFetch, in.uid, func(req *request) {
			for _, v := range in.sockets {
				if rs := wire.RemoteSocket(a.nsp, v); rs != nil {
					req.sockets = append(req.sockets, rs)
				}
			}
		})
	case resAllRooms:
		a.answer(in.requestID, inAllRooms, in.uid, func(req *request) { req.rooms = append(req.rooms, in.rooms...) })
	case resServerSideEmit:
		args := valueArgs(in)
		a.answer(in.requestID, inServerSideEmit, in.uid, func(req *request) { req.responses = append(req.responses, args) })
	case resClientCount:
		if ar := a.ackRequest(in.requestID); ar != nil {
			ar.onCount(in.count)
		}
	case resAck:
		if ar := a.ackRequest(in.requestID); ar != nil {
			ar.onAck(valueArgs(in))
		}
	}
}

// valueArgs is the answer carried by a response, as Args of one value, or
// of none when the answer was undefined.
func valueArgs(in *incoming) sockio.Args { return wire.AnswerArgs(in.value, in.hasValue) }

// serverSideEvent hands an event from another node to the namespace's
// OnServerSideEmit handlers, on the callbacks goroutine.
func (a *Adapter) serverSideEvent(in *incoming) {
	name := wire.EventName(in.data[0])
	args, err := wire.Args(in.data[1:])
	if err != nil {
		a.h.malformed.add(1, "nsp", a.nsp.Name(), "event", name, "err", err)
		return
	}
	var ack func(args ...any)
	if in.requestID != "" {
		ack = wire.OnceAck(func(v any) { a.wire.respond(in, resServerSideEmit, v) }, func(err error) {
			a.h.log.Warn("redis adapter: server-side acknowledgement not encodable", "err", err)
		})
	}
	a.r.call(func() { a.nsp.HandleServerSideEmit(name, args, ack) })
}

// onMessage decodes a message with decode and carries it out; malformed
// messages are dropped, counted (Stats.Malformed) and logged.
func (a *Adapter) onMessage(what string, decode func() (*incoming, error)) {
	in, err := decode()
	if err != nil {
		a.h.malformed.add(1, "nsp", a.nsp.Name(), "channel", what, "err", err)
		return
	}
	if in != nil {
		a.handle(in)
	}
}
