package adaptertest

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/sockio/sockio"
)

// node is one sockio server of a scenario's cluster, in this process or
// (child set) in a child process.
type node struct {
	name  string
	url   string
	srv   *sockio.Server // nil for a child
	hs    *httptest.Server
	child *child
	rec   *recorder // server-side events (in this process)

	closeOnce sync.Once
}

// recorder keeps the server-side events a node received.
type recorder struct {
	mu      sync.Mutex
	events  []string
	changed chan struct{}
	release chan struct{} // closed when the node closes: "hold" handlers return
	holds   bool          // "hold" waits for release (a child node only)
	onEvent func(string)  // optional: told of each event (a child reports them)
}

func newRecorder() *recorder {
	return &recorder{changed: make(chan struct{}), release: make(chan struct{})}
}

func (r *recorder) add(ev string) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	close(r.changed)
	r.changed = make(chan struct{})
	fn := r.onEvent
	r.mu.Unlock()
	if fn != nil {
		fn(ev)
	}
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// newServer makes the server every node of the suite runs: a socket keeps
// its client's name and its node as data, joins and leaves rooms on
// "join" and "leave", answers "echo"; server-side events are recorded and
// answered with "node:event", except "hold" on a child node, which is
// answered only when the node closes (a node busy, then dead, mid-request).
func newServer(name string, factory sockio.AdapterFactory, recovery bool, rec *recorder) *sockio.Server {
	opts := sockio.Options{Adapter: factory}
	if recovery {
		opts.ConnectionStateRecovery = &sockio.RecoveryOptions{MaxDisconnectionDuration: time.Minute}
	}
	srv := sockio.NewServer(opts)
	srv.OnConnection(func(s *sockio.Socket) {
		if !s.Recovered() { // a recovered socket keeps the data of its first node
			s.SetData(map[string]any{"name": s.Handshake().Auth["name"], "node": name})
		}
		s.On("join", func(room string) { s.Join(room) })
		s.On("leave", func(room string) { s.Leave(room) })
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
	})
	srv.Of("/").OnServerSideEmit(func(e *sockio.Event) {
		parts := []string{e.Name}
		for i := range e.Args.Len() {
			parts = append(parts, string(e.Args.Raw(i)))
		}
		rec.add(strings.Join(parts, " "))
		if e.Name == "hold" && rec.holds {
			<-rec.release
		}
		if e.WantsAck() {
			_ = e.Ack(name + ":" + e.Name)
		}
	})
	return srv
}

// startLocal starts a node in this process on 127.0.0.1.
func startLocal(name string, factory sockio.AdapterFactory, recovery, holds bool) *node {
	n := &node{name: name, rec: newRecorder()}
	n.rec.holds = holds
	n.srv = newServer(name, factory, recovery, n.rec)
	n.hs = httptest.NewUnstartedServer(n.srv)
	n.hs.Config.ReadHeaderTimeout = sockio.DefaultReadHeaderTimeout
	n.hs.Config.IdleTimeout = sockio.DefaultIdleTimeout
	n.hs.Start()
	n.url = n.hs.URL
	return n
}

// close shuts the node down cleanly: its sockets are disconnected with
// "server shutting down" and its adapters closed.
func (n *node) close() {
	n.closeOnce.Do(func() {
		if n.child != nil {
			n.child.stop()
			return
		}
		close(n.rec.release)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.srv.Close(ctx)
		n.hs.Close()
	})
}
