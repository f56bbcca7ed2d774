package redisstreams

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
)

// PersistSession keeps s under SessionKeyPrefix+pid for ttl, as the
// reference does: {sid, pid, rooms, data} as MessagePack, in base64, SET
// with PX. The key does not name the namespace (nor does the reference's):
// a private session id is unique across namespaces. s.Data must be
// JSON-able (it goes through its JSON form, as a Node.js peer would see
// it).
func (b *Broker) PersistSession(ctx context.Context, nsp string, s sockio.Session, ttl time.Duration) error {
	raw, err := encodeSession(s)
	if err != nil {
		return fmt.Errorf("redisstreams: persisting session %s: %w", s.SID, err)
	}
	err = b.rdb.Set(ctx, b.opts.SessionKeyPrefix+s.PID, raw, ttl).Err()
	if err != nil {
		return fmt.Errorf("redisstreams: persisting session %s: %w", s.SID, err)
	}
	return nil
}

// PersistSessions implements cluster.SessionBatchStore: the SETs and DELs
// of a batch of live sessions go in one pipeline (not a transaction: each
// key stands alone, and a Redis Cluster splits a pipeline by slot). A
// session that does not encode is left out, counted as malformed.
func (b *Broker) PersistSessions(ctx context.Context, nsp string, keep []sockio.Session, ttl time.Duration, drop []string) error {
	_, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, s := range keep {
			raw, err := encodeSession(s)
			if err != nil {
				b.malformed(err, "session", s.SID)
				continue
			}
			p.Set(ctx, b.opts.SessionKeyPrefix+s.PID, raw, ttl)
		}
		for _, pid := range drop {
			p.Del(ctx, b.opts.SessionKeyPrefix+pid)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstreams: persisting %d sessions, dropping %d: %w", len(keep), len(drop), err)
	}
	return nil
}

// TakeSession gets and deletes the session of pid at once (GET and DEL in
// a MULTI, as the reference, which works before Redis 6.2's GETDEL): two
// nodes asked for the same session give it to one of them only. Its Data
// is the JSON form of what was stored (map[string]any, []any, float64...).
func (b *Broker) TakeSession(ctx context.Context, nsp, pid string) (*sockio.Session, error) {
	key := b.opts.SessionKeyPrefix + pid
	var get *redis.StringCmd
	_, err := b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Del(ctx, key)
		return nil
	})
	if err == redis.Nil || (err == nil && get.Err() == redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisstreams: taking session %s: %w", pid, err)
	}
	s, err := decodeSession(get.Val())
	if err != nil {
		b.malformed(err, "session", key)
		return nil, nil
	}
	return s, nil
}

// encodeSession writes s as the reference does: base64 of the MessagePack
// map {sid, pid, rooms, data}.
func encodeSession(s sockio.Session) (string, error) {
	data, err := wireValue(s.Data)
	if err != nil {
		return "", err
	}
	rooms := make([]any, len(s.Rooms))
	for i, r := range s.Rooms {
		rooms[i] = r
	}
	p, err := notepack.Marshal(notepack.Map{
		{Key: "sid", Value: s.SID},
		{Key: "pid", Value: s.PID},
		{Key: "rooms", Value: rooms},
		{Key: "data", Value: data},
	})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(p), nil
}

func decodeSession(raw string) (*sockio.Session, error) {
	p, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: session: %w", errMalformed, err)
	}
	v, err := notepack.Unmarshal(p)
	if err != nil {
		return nil, fmt.Errorf("%w: session: %w", errMalformed, err)
	}
	m, ok := v.(notepack.Map)
	if !ok {
		return nil, fmt.Errorf("%w: session is not a map", errMalformed)
	}
	s := &sockio.Session{}
	sid, _ := m.Get("sid")
	pid, _ := m.Get("pid")
	s.SID, _ = sid.(string)
	s.PID, _ = pid.(string)
	if s.SID == "" || s.PID == "" {
		return nil, fmt.Errorf("%w: session without sid or pid", errMalformed)
	}
	rooms, _ := m.Get("rooms")
	list, _ := rooms.([]any)
	for _, r := range list {
		if r, ok := r.(string); ok {
			s.Rooms = append(s.Rooms, r)
		}
	}
	if d, ok := m.Get("data"); ok {
		s.Data = plain(d)
	}
	return s, nil
}

// wireValue turns an application value into the ordered values notepack
// writes, through its JSON form (as a Node.js app's data would be).
func wireValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case notepack.Map, string, bool, float64, int64:
		return x, nil
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return notepack.ParseJSON(js, nil)
}

// plain converts a decoded value to what encoding/json gives in an any.
func plain(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case notepack.Map:
		out := make(map[string]any, len(x))
		for _, kv := range x {
			if kv.Value != notepack.Undefined {
				out[kv.Key] = plain(kv.Value)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = plain(el)
		}
		return out
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
