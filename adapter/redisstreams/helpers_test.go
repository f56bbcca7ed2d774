package redisstreams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/sockiotest"
)

func TestMain(m *testing.M) {
	testkit.QuietRedis()
	os.Exit(m.Run())
}

// newClient connects to the test Redis, or skips when none answers (fails
// on CI): sockiotest.Redis.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	return sockiotest.Redis(t).NewClient()
}

// testOptions names the stream, channels and session keys after the test,
// so parallel runs never meet, and deletes the keys afterwards.
func testOptions(t testing.TB, c redis.UniversalClient) Options {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := "sockio-test-" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		keys, _ := c.Keys(ctx, p+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return Options{StreamName: p, ChannelPrefix: p, SessionKeyPrefix: p + ":session:",
		BlockTime: time.Second, Logger: slog.New(slog.DiscardHandler)}
}

// recorder is a Handler that keeps what it gets.
type recorder struct {
	mu        sync.Mutex
	messages  []*cluster.Message
	offsets   []string
	responses []*cluster.Message
}

func (r *recorder) HandleMessage(m *cluster.Message, offset string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, m)
	r.offsets = append(r.offsets, offset)
}

func (r *recorder) HandleResponse(m *cluster.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.responses = append(r.responses, m)
}

func (r *recorder) snapshot() ([]*cluster.Message, []string, []*cluster.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*cluster.Message(nil), r.messages...), append([]string(nil), r.offsets...),
		append([]*cluster.Message(nil), r.responses...)
}

func msg(uid, nsp string, i int) *cluster.Message {
	return &cluster.Message{UID: uid, NSP: nsp, Type: cluster.SocketsJoin,
		Data: map[string]any{"rooms": []any{fmt.Sprint("room", i)}}}
}

func slogTo(l *testkit.LogBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
