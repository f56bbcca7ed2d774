package redisstreams_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/internal/testkit"
	"github.com/sockio/sockio/adapter/redisstreams"
)

func batchBroker(t testing.TB) (*redisstreams.Broker, string) {
	testkit.NeedRedis(t)
	c := suiteClient(t, testkit.RedisAddr())
	prefix := fmt.Sprintf("sockio-batch-%d", time.Now().UnixNano())
	t.Cleanup(func() { dropKeys(testkit.RedisAddr(), prefix) })
	b := redisstreams.NewBroker(c, suiteOptions(prefix))
	t.Cleanup(func() { _ = b.Close() })
	return b, prefix
}

// A batch keeps its sessions and forgets its drops, each readable (and
// taken once) as PersistSession's.
func TestPersistSessions(t *testing.T) {
	b, _ := batchBroker(t)
	testkit.CheckPersistSessions(t, b)
}

// BenchmarkPersistSessions: the Redis cost of live sessions, per session,
// in batches of 256 (one pipeline, as the core flushes them) and one by
// one (PersistSession, a round trip each).
func BenchmarkPersistSessions(b *testing.B) {
	br, _ := batchBroker(b)
	testkit.BenchmarkPersistSessions(b, br)
}
