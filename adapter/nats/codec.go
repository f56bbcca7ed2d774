package nats

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/internal/notepack"
)

// errMalformed marks a message from the broker that is not a cluster
// message; it is counted and dropped.
var errMalformed = errors.New("nats adapter: malformed message")

// encodeMessage writes m as the sharded Redis adapter does: the MessagePack
// map {type, data, uid, nsp}.
func encodeMessage(m *cluster.Message) ([]byte, error) {
	b, err := notepack.Marshal(notepack.Map{
		{Key: "type", Value: int(m.Type)},
		{Key: "data", Value: m.Data},
		{Key: "uid", Value: m.UID},
		{Key: "nsp", Value: m.NSP},
	})
	if err != nil {
		return nil, fmt.Errorf("nats adapter: encode message type %d: %w", m.Type, err)
	}
	return b, nil
}

// decodeMessage reads a message published by encodeMessage. Memory is
// bounded by the size of b: notepack refuses lengths beyond it.
func decodeMessage(b []byte) (*cluster.Message, error) {
	v, err := notepack.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	m, ok := v.(notepack.Map)
	if !ok {
		return nil, fmt.Errorf("%w: %T, not a map", errMalformed, v)
	}
	out := &cluster.Message{}
	t, _ := m.Get("type")
	typ, ok := asInt(t)
	if !ok || typ < int64(cluster.InitialHeartbeat) || typ > math.MaxInt32 {
		return nil, fmt.Errorf("%w: type %v", errMalformed, t)
	}
	out.Type = cluster.MessageType(typ)
	uid, _ := m.Get("uid")
	if out.UID, ok = uid.(string); !ok {
		return nil, fmt.Errorf("%w: uid %T", errMalformed, uid)
	}
	nsp, _ := m.Get("nsp")
	if out.NSP, ok = nsp.(string); !ok {
		return nil, fmt.Errorf("%w: nsp %T", errMalformed, nsp)
	}
	data, _ := m.Get("data")
	out.Data = normalize(data)
	return out, nil
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	}
	return 0, false
}

// normalize brings decoded values into the set the cluster core reads:
// objects stay notepack.Map (the key order of a client's payload is kept,
// as with the Redis adapter), JavaScript's undefined becomes nil (and
// leaves an object), large unsigned integers become float64, dates the ISO
// strings JSON.stringify makes, other extensions [type, bytes] as Node
// sees them.
func normalize(v any) any {
	switch x := v.(type) {
	case notepack.Map:
		out := make(notepack.Map, 0, len(x))
		for _, kv := range x {
			if kv.Value == notepack.Undefined {
				continue
			}
			out = append(out, notepack.KV{Key: kv.Key, Value: normalize(kv.Value)})
		}
		return out
	case []any:
		for i, el := range x {
			x[i] = normalize(el)
		}
		return x
	case uint64:
		return float64(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case notepack.Ext:
		return []any{float64(x.Type), x.Data}
	}
	if v == notepack.Undefined {
		return nil
	}
	return v
}
