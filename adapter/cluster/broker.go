package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/sockio/sockio"
)

// MessageType numbers a cluster message as socket.io-adapter's
// ClusterAdapter does, so that brokers wire-compatible with a Node.js
// adapter (the sharded Redis adapter, the Redis Streams adapter) carry the
// same numbers.
type MessageType int

// The message types of the reference's ClusterAdapter(WithHeartbeat).
const (
	InitialHeartbeat MessageType = iota + 1
	Heartbeat
	Broadcast
	SocketsJoin
	SocketsLeave
	DisconnectSockets
	FetchSockets
	FetchSocketsResponse
	ServerSideEmit
	ServerSideEmitResponse
	BroadcastClientCount
	BroadcastAck
	AdapterClose
)

// Message is one cluster message, the reference's ClusterMessage: who sent
// it, for which namespace, its type and its data.
//
// Data is what the type carries. On the way out it is built by the core
// from ordered maps (notepack.Map), []byte for binary, strings, numbers,
// bools and slices of those, which a broker encodes as JSON (no binary) or
// MessagePack with internal/notepack, as its Node.js counterpart does. On
// the way in it is what the broker decoded: map[string]any, []any, string,
// float64 or int64, []byte, bool or nil. The core reads both.
type Message struct {
	UID  string
	NSP  string
	Type MessageType
	Data any
}

// Handler receives the messages a broker delivers for one namespace of one
// node. A broker calls it from one goroutine per subscription, in the
// order the broker delivered them; it must not block for long.
type Handler interface {
	// HandleMessage receives a message published to the namespace by
	// another node (a broker may deliver the node's own messages too: the
	// core ignores them by UID). offset is the message's place in the
	// broker's log, "" for a broker without one.
	HandleMessage(m *Message, offset string)
	// HandleResponse receives a response addressed to this node.
	HandleResponse(m *Message)
}

// Broker moves cluster messages between the nodes of a cluster. One Broker
// serves every namespace of a server (and may serve several servers of one
// process). The Socket.IO semantics (rooms, acks, requests, heartbeats,
// timeouts) live in this package's Adapter; a Broker only carries
// messages.
type Broker interface {
	// Subscribe starts delivering to h the messages published for namespace
	// nsp, and the responses addressed to node uid in it. It returns once
	// the subscription is active, or with ctx's error. Cancel ends it.
	Subscribe(ctx context.Context, nsp, uid string, h Handler) (Subscription, error)
	// Publish sends m to every node of m.NSP. It returns m's offset in the
	// broker's log, "" for a broker without one. A broker must not block a
	// caller for long when it is unreachable: it fails, or queues within a
	// bound and drops (counted) past it.
	Publish(ctx context.Context, m *Message) (offset string, err error)
	// PublishResponse sends m to node uid of m.NSP only, where the broker
	// can address one node, or to all of them (the core then ignores
	// responses for others).
	PublishResponse(ctx context.Context, uid string, m *Message) error
}

// Subscription is an active Subscribe.
type Subscription interface {
	// Cancel stops the delivery; no Handler call starts after it returns.
	Cancel() error
}

// Log is implemented by brokers that keep the broadcasts of a namespace in
// an ordered log with offsets (Redis Streams, NATS JetStream), which
// connection-state recovery reads across nodes.
type Log interface {
	// ReadFrom calls fn with each message of nsp after offset, oldest first,
	// until fn returns false or the log ends. It returns ErrOffsetGone when
	// offset is no longer (or never was) in the log.
	ReadFrom(ctx context.Context, nsp, offset string, fn func(m *Message, offset string) bool) error
	// OffsetAfter reports whether offset a comes after offset b in the log
	// (true when either is not an offset of the log's: an unknown one is
	// not to be dropped as old).
	OffsetAfter(a, b string) bool
}

// SessionStore keeps the sessions of disconnected sockets where any node
// can take them back (connection-state recovery across nodes).
type SessionStore interface {
	// PersistSession keeps s for ttl, under s.PID.
	PersistSession(ctx context.Context, nsp string, s sockio.Session, ttl time.Duration) error
	// TakeSession returns and forgets the session kept under pid; nil,
	// with no error, when there is none. The client's offset decides which
	// events it missed: the core reads them from the broker's Log.
	TakeSession(ctx context.Context, nsp, pid string) (*sockio.Session, error)
}

// ErrOffsetGone is returned by Log.ReadFrom when the offset has been
// trimmed from the log, or was never there: the client cannot be recovered.
var ErrOffsetGone = errors.New("cluster: offset no longer in the log")
