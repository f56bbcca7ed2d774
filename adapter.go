package sockio

import (
	"context"
	"time"

	"github.com/sockio/sockio/parser"
)

// BroadcastFlags modify how a broadcast is delivered.
type BroadcastFlags struct {
	// Volatile packets may be dropped when a client cannot take them now.
	Volatile bool `json:"volatile,omitempty" msgpack:"volatile,omitempty"`
	// Local limits the broadcast to this node's sockets.
	Local bool `json:"local,omitempty" msgpack:"local,omitempty"`
	// NoCompress disables WebSocket compression for the packet.
	NoCompress bool `json:"-" msgpack:"-"`
	// Timeout bounds a broadcast with acknowledgements.
	Timeout time.Duration `json:"-" msgpack:"-"`
}

// BroadcastOptions select the sockets a broadcast or a server utility
// applies to: those in any of Rooms (all when empty), minus those in any
// of Except.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  BroadcastFlags
}

// Adapter stores which socket is in which room and delivers broadcasts.
// There is one Adapter per Namespace. The default keeps everything in
// memory; a cluster adapter (adapter/redis) also forwards broadcasts and
// requests to other nodes, keeping this interface.
type Adapter interface {
	// AddAll adds socket id to rooms.
	AddAll(id string, rooms []string)
	// Del removes socket id from room.
	Del(id, room string)
	// DelAll removes socket id from all its rooms.
	DelAll(id string)
	// SocketRooms returns the rooms of local socket id.
	SocketRooms(id string) []string
	// Rooms returns the local rooms.
	Rooms() []string
	// Sockets returns the ids of the local sockets selected by rooms (all when empty).
	Sockets(rooms []string) []string

	// Broadcast sends p to the selected sockets.
	Broadcast(p *parser.Packet, opts *BroadcastOptions)
	// BroadcastWithAck sends p to the selected sockets, asking each for an
	// acknowledgement. onCount is called once per node with the number of
	// sockets reached there; onAck once per acknowledgement, where the
	// acknowledgement arrives (a connection's reader), so it must not block.
	BroadcastWithAck(p *parser.Packet, opts *BroadcastOptions, onCount func(n int), onAck func(res Args))
	// ServerCount returns the number of nodes, this one included.
	ServerCount(ctx context.Context) (int, error)

	// FetchSockets returns the selected sockets, across nodes.
	FetchSockets(ctx context.Context, opts *BroadcastOptions) ([]*RemoteSocket, error)
	// AddSockets makes the selected sockets join rooms.
	AddSockets(opts *BroadcastOptions, rooms []string)
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(opts *BroadcastOptions, rooms []string)
	// DisconnectSockets disconnects the selected sockets.
	DisconnectSockets(opts *BroadcastOptions, close bool)
	// ServerSideEmit sends an event to the other nodes' namespaces. With a
	// non-nil onDone it waits for each node's acknowledgement.
	ServerSideEmit(ctx context.Context, args []any, onDone func(err error, res []Args))

	// PersistSession keeps a disconnected socket's state for connection-state
	// recovery (only called when the server has it on).
	PersistSession(s Session)
	// TakeSession returns and forgets the state kept for pid; nil, with no
	// error, when there is none. sockio then puts the socket back in its
	// rooms, where broadcasts reach it (held until it is connected), and
	// only then reads what it missed with ReadMissed: an event sent in
	// between reaches it one way or both, never neither.
	TakeSession(ctx context.Context, pid string) (*Session, error)
	// ReadMissed returns the kept events sent to rooms after offset, oldest
	// first, each with its offset as last argument, and through, the offset
	// of the newest event read (offset itself when none came after it).
	// ok is false when offset is not kept any more: the client cannot be
	// recovered.
	ReadMissed(ctx context.Context, rooms []string, offset string) (missed []*parser.Packet, through string, ok bool, err error)
	// OffsetAfter reports whether offset a comes after offset b: a
	// recovered socket drops the live broadcasts that its replay already
	// held (at or before through). An offset it cannot compare counts as
	// after.
	OffsetAfter(a, b string) bool

	// Close releases the adapter's resources.
	Close() error
}

// AdapterFactory creates the Adapter of a namespace.
type AdapterFactory func(nsp *Namespace) Adapter

// RemoteSocket is a socket found by FetchSockets, on this node or another.
type RemoteSocket struct {
	ID        string
	Handshake *Handshake
	Rooms     []string
	Data      any

	nsp *Namespace
}

// Emit sends an event to this socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.nsp.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) { r.nsp.In(r.ID).SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) { r.nsp.In(r.ID).SocketsLeave(rooms...) }

// Disconnect disconnects the socket from its namespace, on whichever node
// it is, as Socket.Disconnect.
func (r *RemoteSocket) Disconnect() { r.nsp.In(r.ID).DisconnectSockets(false) }

// Close closes the socket's whole connection, on whichever node it is, as
// Socket.Close.
func (r *RemoteSocket) Close() { r.nsp.In(r.ID).DisconnectSockets(true) }

// NewRemoteSocket describes a socket of another node, for cluster adapters.
func NewRemoteSocket(nsp *Namespace, id string, hs *Handshake, rooms []string, data any) *RemoteSocket {
	return &RemoteSocket{ID: id, Handshake: hs, Rooms: rooms, Data: data, nsp: nsp}
}

// SessionTracker is implemented by an adapter that keeps the session of
// each connected socket where another node can recover it, so that a
// client whose node dies without a word (killed, crashed) still recovers
// (adapter/cluster does, with a broker's SessionStore). It is for
// adapters, not applications. The server calls it only when connection-
// state recovery is on, for sockets that have a private id, from the
// goroutine that made the change; an implementation must not block.
type SessionTracker interface {
	// SessionChanged says socket id connected, or its rooms or data
	// changed. snapshot returns the socket's session as it is when called,
	// and false once the socket has disconnected: an adapter may call it
	// later, once for many changes.
	SessionChanged(id string, snapshot func() (Session, bool))
	// SessionEnded says socket id disconnected with nothing to recover (the
	// client chose to leave, or the server disconnected it): what the
	// adapter keeps of it must go. When there is something to recover,
	// PersistSession is called instead.
	SessionEnded(id string)
}
