package nats_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/adaptertest"
	sionats "github.com/sockio/sockio/adapter/nats"
)

// The NATS adapter runs the scenario suite every adapter runs: on core
// NATS alone, and with the JetStream log (recovery across nodes).
func TestSuiteCore(t *testing.T) { adaptertest.Run(t, suiteConfig(t, 0)) }

func TestSuiteJetStream(t *testing.T) { adaptertest.Run(t, suiteConfig(t, time.Minute)) }

func suiteURL() string {
	if u := os.Getenv("SOCKIO_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

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
	nc, err := natsgo.Connect(suiteURL(), natsgo.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("no NATS at %s (%v): start nats-server -js, or set SOCKIO_TEST_NATS", suiteURL(), err)
	}
	nc.Close()
	cfg := adaptertest.Config{
		NewNode: func(t testing.TB, cluster string) sockio.AdapterFactory {
			o := suiteOptions(cluster, window)
			if window > 0 {
				dropCluster(t, suiteURL(), o.StreamName)
			}
			return sionats.NewAdapter(suiteConn(t, suiteURL()), o)
		},
		Recovery:        window > 0,
		CrossProcess:    true,
		RequestsTimeout: time.Second,
		NodeTimeout:     15 * time.Second,
		RestartBroker: func(t *testing.T) (func() sockio.AdapterFactory, func()) {
			srv := startServer(t)
			o := suiteOptions("sockio-at-restart", window)
			return func() sockio.AdapterFactory { return sionats.NewAdapter(suiteConn(t, srv.url()), o) }, srv.restart
		},
		Inject: func(t testing.TB, cluster, nsp string, payload []byte) error {
			nc := suiteConn(t, suiteURL())
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

// server is a nats-server of a scenario's own, JetStream on disk, for the
// restart scenario.
type server struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *server) url() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

func startServer(t testing.TB) *server {
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, port: l.Addr().(*net.TCPAddr).Port, dir: t.TempDir()}
	_ = l.Close()
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.cmd = exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := natsgo.Connect(s.url(), natsgo.Timeout(time.Second))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server on %d did not start: %v", s.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

func (s *server) restart() {
	s.stop()
	s.start()
}
