package nats_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/testkit"
	sionats "github.com/sockio/sockio/adapter/nats"
)

func batchStore(t testing.TB) cluster.SessionBatchStore {
	testkit.NeedNATS(t)
	name := fmt.Sprintf("sockio-batch-%d", time.Now().UnixNano())
	o := suiteOptions(name, time.Minute)
	dropCluster(t, testkit.NATSURL(), o.StreamName)
	b := sionats.NewBroker(suiteConn(t, testkit.NATSURL()), o)
	bs, ok := b.(cluster.SessionBatchStore)
	if !ok {
		t.Fatalf("%T is not a cluster.SessionBatchStore", b)
	}
	return bs
}

// A batch keeps its sessions and forgets its drops, each taken once as
// PersistSession's.
func TestPersistSessions(t *testing.T) { testkit.CheckPersistSessions(t, batchStore(t)) }

// BenchmarkPersistSessions: the NATS cost of live sessions, per session,
// in batches of 256 (as the core flushes them) and one by one.
func BenchmarkPersistSessions(b *testing.B) { testkit.BenchmarkPersistSessions(b, batchStore(b)) }
