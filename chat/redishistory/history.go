package redishistory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/chat"
)

// Options configure a History; the zero value gives the defaults.
type Options struct {
	// Prefix names the keys: "{Prefix}:room:<room>" and "{Prefix}:rooms"
	// (default "sockio-chat"; the braces make it a Redis Cluster hash tag).
	Prefix string
	// Limit is how many messages a room keeps (default 100).
	Limit int
	// MaxRooms bounds the rooms kept (default 1000).
	MaxRooms int
	// TTL forgets a room this long after its last message (default 7 days).
	TTL time.Duration
}

// History is a chat.History in Redis.
type History struct {
	client redis.UniversalClient
	opts   Options
	rooms  string // the sorted set of rooms
}

var _ chat.History = (*History)(nil)

// New returns a History that stores in Redis through client.
func New(client redis.UniversalClient, opts Options) *History {
	if opts.Prefix == "" {
		opts.Prefix = "sockio-chat"
	}
	if opts.Limit <= 0 {
		opts.Limit = 100
	}
	if opts.MaxRooms <= 0 {
		opts.MaxRooms = 1000
	}
	if opts.TTL <= 0 {
		opts.TTL = 7 * 24 * time.Hour
	}
	return &History{client: client, opts: opts, rooms: "{" + opts.Prefix + "}:rooms"}
}

func (h *History) roomKey(room string) string { return "{" + h.opts.Prefix + "}:room:" + room }

// appendScript pushes a message, trims the room, refreshes its expiry and
// its place among the rooms, and forgets the stalest rooms past the bound.
var appendScript = redis.NewScript(`
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if extra > 0 then
  local old = redis.call('ZPOPMIN', KEYS[2], extra)
  for i = 1, #old, 2 do redis.call('DEL', old[i]) end
end
return 1
`)

// Append implements chat.History.
func (h *History) Append(ctx context.Context, m chat.Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("redishistory: %w", err)
	}
	err = appendScript.Run(ctx, h.client, []string{h.roomKey(m.Room), h.rooms},
		b, h.opts.Limit, h.opts.TTL.Milliseconds(), time.Now().UnixMicro(), h.opts.MaxRooms).Err()
	if err != nil {
		return fmt.Errorf("redishistory: append to %q: %w", m.Room, err)
	}
	return nil
}

// Recent implements chat.History: up to n of the newest messages of room,
// oldest first; an empty, non-nil slice for a room without history.
func (h *History) Recent(ctx context.Context, room string, n int) ([]chat.Message, error) {
	out := []chat.Message{}
	if n <= 0 {
		return out, nil
	}
	raw, err := h.client.LRange(ctx, h.roomKey(room), int64(-n), -1).Result()
	if err != nil {
		return out, fmt.Errorf("redishistory: read %q: %w", room, err)
	}
	for _, r := range raw {
		var m chat.Message
		if json.Unmarshal([]byte(r), &m) == nil {
			out = append(out, m)
		}
	}
	return out, nil
}
