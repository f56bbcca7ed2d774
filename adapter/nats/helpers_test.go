package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/sockio/sockio/adapter/cluster"
)

func natsURL() string {
	if u := os.Getenv("SOCKIO_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// needNATS skips when no NATS server answers: CI has one.
func needNATS(t testing.TB) {
	t.Helper()
	nc, err := natsgo.Connect(natsURL(), natsgo.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("no NATS at %s (%v): start nats-server -js, or set SOCKIO_TEST_NATS", natsURL(), err)
	}
	nc.Close()
}

func dial(t testing.TB, url string, extra ...natsgo.Option) *natsgo.Conn {
	t.Helper()
	nc, err := Connect(url, quiet, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// testOptions are options with a prefix and stream of the test's own,
// removed when it ends.
func testOptions(t testing.TB, url string, window time.Duration) Options {
	t.Helper()
	name := randomName("t")
	o := Options{Prefix: "sockiotest." + name, StreamName: "SOCKIOTEST_" + name, Logger: quiet}
	o.Recovery.Window = window
	if window > 0 {
		t.Cleanup(func() { dropStores(url, o.StreamName) })
	}
	return o
}

func dropStores(url, stream string) {
	nc, err := natsgo.Connect(url, natsgo.Timeout(2*time.Second))
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, stream)
	_ = js.DeleteKeyValue(ctx, stream+"_sessions")
}

func newTestBroker(t testing.TB, nc *natsgo.Conn, o Options) cluster.Broker {
	t.Helper()
	b := NewBroker(nc, o)
	t.Cleanup(func() { _ = closeBroker(b) })
	return b
}

func closeBroker(b cluster.Broker) error {
	switch x := b.(type) {
	case *Broker:
		return x.Close()
	case *RecoveringBroker:
		return x.Close()
	}
	return nil
}

func statsOf(b cluster.Broker) Stats {
	switch x := b.(type) {
	case *Broker:
		return x.Stats()
	case *RecoveringBroker:
		return x.Stats()
	}
	return Stats{}
}

// got is one message a recorder received.
type got struct {
	m        *cluster.Message
	offset   string
	response bool
}

// recorder is a cluster.Handler that keeps what it receives.
type recorder struct {
	mu   sync.Mutex
	msgs []got
	ch   chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1)} }

func (r *recorder) add(g got) {
	r.mu.Lock()
	r.msgs = append(r.msgs, g)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

func (r *recorder) HandleMessage(m *cluster.Message, offset string) {
	r.add(got{m: m, offset: offset})
}

func (r *recorder) HandleResponse(m *cluster.Message) { r.add(got{m: m, response: true}) }

func (r *recorder) snapshot() []got {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]got(nil), r.msgs...)
}

// waitN waits until the recorder holds n messages matching keep.
func (r *recorder) waitN(t testing.TB, n int, keep func(got) bool) []got {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		var out []got
		for _, g := range r.snapshot() {
			if keep == nil || keep(g) {
				out = append(out, g)
			}
		}
		if len(out) >= n {
			return out
		}
		select {
		case <-r.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("got %d messages, want %d", len(out), n)
		}
	}
}

// natsServer is a nats-server of a test's own, with JetStream stored in a
// directory that outlives its restarts.
type natsServer struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

func startNATSServer(t testing.TB) *natsServer {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &natsServer{t: t, port: port, dir: t.TempDir()}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *natsServer) start() {
	s.t.Helper()
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

func (s *natsServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
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

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
