package nats_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
	"github.com/sockio/sockio/adapter/internal/testkit"
	sionats "github.com/sockio/sockio/adapter/nats"
)

// The NATS adapter runs the scenario suite every adapter runs: on core
// NATS alone, and with the JetStream log (recovery across nodes).
func TestSuiteCore(t *testing.T) { adaptertest.Run(t, suiteConfig(t, 0)) }

func TestSuiteJetStream(t *testing.T) { adaptertest.Run(t, suiteConfig(t, time.Minute)) }

// discard is the nodes' logger: silent unless SOCKIO_TEST_LOG is set.
var discard = func() *slog.Logger {
	if os.Getenv("SOCKIO_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

func suiteOptions(cluster string, window time.Duration) sionats.Options {
	o := sionats.Options{Prefix: cluster, StreamName: "SIO_" + cluster, Logger: discard, RequestsTimeout: time.Second}
	o.Recovery.Window = window
	return o
}

func suiteConn(t testing.TB, url string) *natsgo.Conn {
	nc, err := sionats.Connect(url, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// dropped are the clusters whose stream dropCluster will remove.
var dropped sync.Map

// dropCluster removes a cluster's stream and bucket once its first node
// is cleaned up, which is after the others (cleanups run last first), and
// from the parent process only (a child ending must not take them from
// the others).
func dropCluster(t testing.TB, url, stream string) {
	if os.Getenv("SOCKIO_ADAPTERTEST_CHILD") != "" {
		return
	}
	if _, loaded := dropped.LoadOrStore(stream, true); loaded {
		return
	}
	t.Cleanup(func() {
		nc, err := natsgo.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, stream)
		_ = js.DeleteKeyValue(ctx, stream+"_sessions")
	})
}

func suiteConfig(t *testing.T, window time.Duration) adaptertest.Config {
	testkit.NeedNATS(t)
	cfg := adaptertest.Config{
		NewNode: func(t testing.TB, cluster string) sockio.AdapterFactory {
			o := suiteOptions(cluster, window)
			if window > 0 {
				dropCluster(t, testkit.NATSURL(), o.StreamName)
			}
			return sionats.NewAdapter(suiteConn(t, testkit.NATSURL()), o)
		},
		Recovery:        window > 0,
		CrossProcess:    true,
		RequestsTimeout: time.Second,
		NodeTimeout:     15 * time.Second,
		RestartBroker: func(t *testing.T) (func() sockio.AdapterFactory, func()) {
			srv := testkit.StartNATSServer(t)
			o := suiteOptions("sockio-at-restart", window)
			return func() sockio.AdapterFactory { return sionats.NewAdapter(suiteConn(t, srv.URL()), o) }, srv.Restart
		},
		Inject: func(t testing.TB, cluster, nsp string, payload []byte) error {
			nc := suiteConn(t, testkit.NATSURL())
			tok := sionats.EscapeToken(nsp)
			for _, subj := range []string{cluster + "." + tok, cluster + "." + tok + ".%hb"} {
				if err := nc.Publish(subj, payload); err != nil {
					return err
				}
			}
			return nc.Flush()
		},
	}
	if window == 0 {
		cfg.Skip = map[string]string{"Recovery": "core NATS keeps no log: recovery across nodes needs Options.Recovery (TestSuiteJetStream)"}
	}
	return cfg
}
