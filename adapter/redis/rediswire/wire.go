package rediswire

import (
	"fmt"

	"github.com/sockio/sockio/internal/notepack"
)

// DefaultKey prefixes every channel unless configured otherwise.
const DefaultKey = "socket.io"

// EmitterUID is the sender id of every emitter's messages; nodes never
// take it for a node.
const EmitterUID = "emitter"

// Channel is where broadcasts of namespace nsp go: key#nsp#.
func Channel(key, nsp string) string { return key + "#" + nsp + "#" }

// RoomChannel is where a broadcast to the one room goes: key#nsp#room#
// (classic mode always; sharded dynamic modes for the rooms they give a
// channel, see ShardedBroadcastChannel).
func RoomChannel(key, nsp, room string) string { return Channel(key, nsp) + room + "#" }

// RequestChannel is where classic requests go: key-request#nsp#.
func RequestChannel(key, nsp string) string { return key + "-request#" + nsp + "#" }

// ResponseChannel is where classic answers go: key-response#nsp#, plus
// uid# for a requester's own (PublishOnSpecificResponseChannel).
func ResponseChannel(key, nsp string) string { return key + "-response#" + nsp + "#" }

// ShardedResponseChannel is where sharded answers to node uid go:
// key#nsp#uid#.
func ShardedResponseChannel(key, nsp, uid string) string { return Channel(key, nsp) + uid + "#" }

// The classic protocol's request types (its RequestType enum).
const (
	ReqSockets = iota
	ReqAllRooms
	ReqRemoteJoin
	ReqRemoteLeave
	ReqRemoteDisconnect
	ReqRemoteFetch
	ReqServerSideEmit
	ReqBroadcast
	ReqBroadcastClientCount
	ReqBroadcastAck
)

// The sharded protocol's message types: socket.io-adapter's
// ClusterAdapter numbering (adapter/cluster.MessageType, which a test
// checks these against).
const (
	TypeInitialHeartbeat = iota + 1
	TypeHeartbeat
	TypeBroadcast
	TypeSocketsJoin
	TypeSocketsLeave
	TypeDisconnectSockets
	TypeFetchSockets
	TypeFetchSocketsResponse
	TypeServerSideEmit
	TypeServerSideEmitResponse
	TypeBroadcastClientCount
	TypeBroadcastAck
	TypeAdapterClose
)

// SubscriptionMode says which channels a sharded adapter subscribes to, as
// the reference's subscriptionMode option.
type SubscriptionMode string

const (
	// Dynamic: one channel per namespace, plus one per public room (a room
	// that is not a socket id) that has local members. The default.
	Dynamic SubscriptionMode = "dynamic"
	// Static: one channel per namespace; every node gets every broadcast.
	Static SubscriptionMode = "static"
	// DynamicPrivate: as Dynamic, private rooms (socket ids) included.
	DynamicPrivate SubscriptionMode = "dynamic-private"
)

// LooksLikeASocketID is the reference's test for a private room: a socket
// id is 20 characters.
func LooksLikeASocketID(room string) bool { return len(room) == 20 }

// RoomHasChannel reports whether, in mode, room has a channel of its own
// that nodes with members subscribe to.
func RoomHasChannel(mode SubscriptionMode, room string) bool {
	return mode == Dynamic && !LooksLikeASocketID(room) || mode == DynamicPrivate
}

// ShardedBroadcastChannel is the channel of a sharded broadcast to rooms:
// the room's own when it is one room with a channel (room is then true),
// the namespace's otherwise.
func ShardedBroadcastChannel(key, nsp string, mode SubscriptionMode, rooms []string) (channel string, room bool) {
	if len(rooms) == 1 && RoomHasChannel(mode, rooms[0]) {
		return RoomChannel(key, nsp, rooms[0]), true
	}
	return Channel(key, nsp), false
}

// EncodeSharded writes a sharded message {type, data, uid, nsp}: JSON, or
// MessagePack when a type that may carry binary does, as the reference's
// sharded adapter encodes.
func EncodeSharded(typ int, data notepack.Map, uid, nsp string) ([]byte, error) {
	msg := notepack.Map{
		{Key: "type", Value: typ},
		{Key: "data", Value: data},
		{Key: "uid", Value: uid},
		{Key: "nsp", Value: nsp},
	}
	var b []byte
	var err error
	switch typ {
	case TypeBroadcast, TypeBroadcastAck, TypeFetchSocketsResponse, TypeServerSideEmit, TypeServerSideEmitResponse:
		if notepack.HasBinary(data) {
			b, err = notepack.Append(nil, msg)
			break
		}
		fallthrough
	default:
		b, err = notepack.AppendStringify(nil, msg)
	}
	if err != nil {
		return nil, fmt.Errorf("rediswire: encode message type %d: %w", typ, err)
	}
	return b, nil
}
