package redishistory

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/sockiotest"
)

// The tests use the Redis of sockiotest.Redis (SOCKIO_TEST_REDIS), with a
// key prefix of their own.
func newHistory(t *testing.T, opts Options) (*History, *redis.Client) {
	t.Helper()
	r := sockiotest.Redis(t)
	rdb := r.Client
	if opts.Prefix == "" {
		// The keys are {prefix}:…, which sockiotest's cleanup of keys
		// starting with the prefix does not see: deleted below.
		opts.Prefix = r.Prefix
	}
	h := New(rdb, opts)
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), "{"+opts.Prefix+"}:*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	return h, rdb
}

func ids(ms []chat.Message) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.ID)
	}
	return strings.Join(s, ",")
}

func TestKeepsTheNewestOldestFirst(t *testing.T) {
	ctx := context.Background()
	h, _ := newHistory(t, Options{Limit: 3})
	for i := range 5 {
		if err := h.Append(ctx, chat.Message{ID: fmt.Sprint(i), Room: "lobby", From: "ann", Text: "hi é", Time: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := h.Recent(ctx, "lobby", 100)
	if err != nil || ids(got) != "2,3,4" {
		t.Fatalf("Recent = %s, %v", ids(got), err)
	}
	if got[0] != (chat.Message{ID: "2", Room: "lobby", From: "ann", Text: "hi é", Time: 2}) {
		t.Errorf("message %+v", got[0])
	}
	if got, _ := h.Recent(ctx, "lobby", 2); ids(got) != "3,4" {
		t.Errorf("Recent(2) = %s", ids(got))
	}
	if got, err := h.Recent(ctx, "nowhere", 10); err != nil || got == nil || len(got) != 0 {
		t.Errorf("unknown room: %v, %v", got, err)
	}
}

// Two nodes with their own History see one history.
func TestSharedAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, rdb := newHistory(t, Options{})
	b := New(rdb, a.opts)
	_ = a.Append(ctx, chat.Message{ID: "from-a", Room: "r"})
	_ = b.Append(ctx, chat.Message{ID: "from-b", Room: "r"})
	for _, h := range []*History{a, b} {
		if got, _ := h.Recent(ctx, "r", 10); ids(got) != "from-a,from-b" {
			t.Errorf("got %s", ids(got))
		}
	}
}

func TestBoundsRoomsAndExpires(t *testing.T) {
	ctx := context.Background()
	h, rdb := newHistory(t, Options{MaxRooms: 2, TTL: time.Minute})
	_ = h.Append(ctx, chat.Message{ID: "a", Room: "a"})
	_ = h.Append(ctx, chat.Message{ID: "b", Room: "b"})
	_ = h.Append(ctx, chat.Message{ID: "a2", Room: "a"})
	_ = h.Append(ctx, chat.Message{ID: "c", Room: "c"}) // forgets b, the stalest
	if got, _ := h.Recent(ctx, "b", 10); len(got) != 0 {
		t.Errorf("room b kept: %s", ids(got))
	}
	if got, _ := h.Recent(ctx, "a", 10); ids(got) != "a,a2" {
		t.Errorf("room a = %s", ids(got))
	}
	ttl, err := rdb.PTTL(ctx, h.roomKey("a")).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("ttl %v, %v", ttl, err)
	}
	if n, _ := rdb.ZCard(ctx, h.rooms).Result(); n != 2 {
		t.Errorf("%d rooms tracked", n)
	}
}

func TestRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	h := New(rdb, Options{})
	ctx := context.Background()
	if err := h.Append(ctx, chat.Message{Room: "r"}); err == nil || !strings.Contains(err.Error(), "redishistory") {
		t.Errorf("append: %v", err)
	}
	if got, err := h.Recent(ctx, "r", 5); err == nil || got == nil {
		t.Errorf("recent: %v, %v", got, err)
	}
}
