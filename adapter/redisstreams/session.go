package redisstreams

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/internal/wire"
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
	p, err := notepack.Marshal(wire.Session(s, data))
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
	s, _, err := wire.ReadSession(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
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
