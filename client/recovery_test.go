package client_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
)

// recoveryServer is the Node.js reference with connection-state recovery
// on (testdata/recovery-server.mjs).
var recoveryServer = target{"node-recovery", func(port int, flags ...string) *exec.Cmd {
	return exec.Command("node", append([]string{"testdata/recovery-server.mjs", "--port", strconv.Itoa(port)}, flags...)...)
}}

// startGoRecoveryServer runs sockio with connection-state recovery on and
// the events of testdata/recovery-server.mjs, with the same options and the
// same semantics; it returns the base URL. In process, since the contract
// server (goserver) has no event that drops a connection from the server.
func startGoRecoveryServer(t *testing.T) string {
	io := sockio.NewServer(sockio.Options{ConnectionStateRecovery: &sockio.RecoveryOptions{
		MaxDisconnectionDuration: 30 * time.Second,
		SkipMiddlewares:          true,
	}})
	type spec struct {
		Room string `json:"room"`
		N    int    `json:"n"`
	}
	var timers sync.WaitGroup
	io.Of("/").OnConnection(func(s *sockio.Socket) {
		s.On("join", func(room string, ack sockio.Ack) { s.Join(room); ack() })
		s.On("tick", func(sp spec, ack sockio.Ack) {
			for i := range sp.N {
				_ = io.To(sp.Room).Emit("tick", map[string]int{"i": i})
			}
			ack()
		})
		s.On("drop-and-emit", func(sp spec) {
			// The reference's socket.conn.close(): "forced close", which
			// keeps the session for recovery.
			s.Client().Conn().Close()
			timers.Add(1)
			time.AfterFunc(50*time.Millisecond, func() {
				defer timers.Done()
				for i := range sp.N {
					_ = io.To(sp.Room).Emit("missed", map[string]int{"i": i})
				}
			})
		})
		s.On("whoami", func(ack sockio.Ack) {
			ack(map[string]any{"id": s.ID(), "recovered": s.Recovered(), "auth": s.Handshake().Auth})
		})
	})
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		timers.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
	})
	return hs.URL
}

// TestConnectionStateRecovery loses the connection while the server emits
// to the socket's room: on reconnection the client presents its pid and
// last offset, the server restores the session, and the missed events
// arrive, in order. The same scenario runs against the reference and
// against sockio.
func TestConnectionStateRecovery(t *testing.T) {
	servers := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"go", startGoRecoveryServer},
		{"node", func(t *testing.T) string {
			if nodeSkip != "" {
				t.Skip(nodeSkip)
			}
			return startServer(t, recoveryServer).URL("")
		}},
	}
	for _, sv := range servers {
		for _, ts := range [][]string{{"websocket"}, {"polling"}} {
			t.Run(sv.name+"/"+tname(ts), func(t *testing.T) {
				base := sv.start(t)
				leaks := leakCheck(t)
				ctx := timeout(t, 20*time.Second)
				rec := newRecorder()
				opts := fastOptions(ts)
				opts.ReconnectionDelay = 300 * time.Millisecond // after the server's missed emits
				opts.RandomizationFactor = -1
				opts.Auth = map[string]any{"user": "u1"}
				s, err := client.New(base+"/", opts)
				if err != nil {
					t.Fatal(err)
				}
				s.On("connect", func() { rec.add("connect recovered=%v", s.Recovered()) })
				s.On("disconnect", func(reason string) { rec.add("disconnect:%s", reason) })
				s.On("tick", func(v struct{ I int }) { rec.add("tick:%d", v.I) })
				// The offset comes as an extra last argument, as in the reference.
				s.On("missed", func(v struct{ I int }, offset string) { rec.add("missed:%d:%v", v.I, offset != "") })
				if err := s.Connect(ctx); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "connect recovered=false")
				if _, err := s.EmitWithAck(ctx, "join", "r"); err != nil {
					t.Fatal(err)
				}
				if _, err := s.EmitWithAck(ctx, "tick", map[string]any{"room": "r", "n": 2}); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "tick:0", "tick:1")
				id := s.ID()

				if err := s.Emit("drop-and-emit", map[string]any{"room": "r", "n": 3}); err != nil {
					t.Fatal(err)
				}
				// The server sends the missed events before its CONNECT answer;
				// the client holds them and delivers them first, as the
				// reference client does.
				rec.expect(t, 5*time.Second, "disconnect:transport close",
					"missed:0:true", "missed:1:true", "missed:2:true", "connect recovered=true")
				if !s.Recovered() || s.ID() != id {
					t.Errorf("recovered %v, id %q then %q", s.Recovered(), id, s.ID())
				}
				res, err := s.EmitWithAck(ctx, "whoami")
				if err != nil {
					t.Fatal(err)
				}
				var who struct {
					ID        string
					Recovered bool
					Auth      struct{ User, PID, Offset string }
				}
				if err := res.Decode(0, &who); err != nil {
					t.Fatal(err)
				}
				if who.ID != id || !who.Recovered || who.Auth.User != "u1" || who.Auth.PID == "" || who.Auth.Offset == "" {
					t.Errorf("server saw %s", res)
				}

				// A second loss: the offset now comes from the replayed
				// events, so only what was sent since is replayed.
				if err := s.Emit("drop-and-emit", map[string]any{"room": "r", "n": 2}); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "disconnect:transport close",
					"missed:0:true", "missed:1:true", "connect recovered=true")
				if s.ID() != id {
					t.Errorf("id %q after the second recovery, want %q", s.ID(), id)
				}
				_ = s.Close()
				leaks()
			})
		}
	}
}

// dialTracker is a client's dialer that can cut every connection it made:
// the network failing under the client, not the server closing.
type dialTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (d *dialTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err == nil {
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
	}
	return c, err
}

func (d *dialTracker) cutAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.Close()
	}
	d.conns = nil
}

// TestRecoveryAfterNetworkCut runs recovery against the contract servers
// (goserver and refserver.mjs with --recovery 30000): the client's network
// fails, another client emits to its room meanwhile (the contract's "to"),
// and on reconnection the socket is recovered with the missed events, in
// order, and its rooms.
func TestRecoveryAfterNetworkCut(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		for _, ts := range [][]string{{"websocket"}, {"polling"}} {
			t.Run(tname(ts), func(t *testing.T) {
				srv := startServer(t, tg, "--recovery", "30000")
				leaks := leakCheck(t)
				ctx := timeout(t, 20*time.Second)

				// The observer sees the server-side reason of the loss.
				gone := make(chan string, 8)
				obs, err := client.New(srv.URL("/"), client.Options{Transports: ts})
				if err != nil {
					t.Fatal(err)
				}
				obs.On("gone", func(g struct{ ID, Reason string }) { gone <- g.ID + " " + g.Reason })
				if err := obs.Connect(ctx); err != nil {
					t.Fatal(err)
				}
				defer obs.Close()
				if _, err := obs.EmitWithAck(ctx, "observe"); err != nil {
					t.Fatal(err)
				}

				var cut dialTracker
				tr := &http.Transport{DialContext: cut.dial}
				defer tr.CloseIdleConnections()
				rec := newRecorder()
				opts := fastOptions(ts)
				opts.HTTPClient = &http.Client{Transport: tr}
				opts.ReconnectionDelay = 300 * time.Millisecond // after the missed emits
				opts.RandomizationFactor = -1
				a, err := client.New(srv.URL("/"), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				a.On("connect", func() { rec.add("connect recovered=%v", a.Recovered()) })
				a.On("disconnect", func(reason string) { rec.add("disconnect:%s", reason) })
				a.On("news", func(v struct{ I int }) { rec.add("news:%d", v.I) })
				if err := a.Connect(ctx); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "connect recovered=false")
				if _, err := a.EmitWithAck(ctx, "join", "r"); err != nil {
					t.Fatal(err)
				}
				to := func(room string, i int) {
					t.Helper()
					spec := map[string]any{"rooms": []string{room}, "event": "news", "args": []any{map[string]int{"i": i}}}
					if _, err := obs.EmitWithAck(ctx, "to", spec); err != nil {
						t.Fatal(err)
					}
				}
				to("r", 0)
				rec.expect(t, 5*time.Second, "news:0")
				id := a.ID()

				// A cut between two polls goes unnoticed (the next request
				// opens a new connection), so cut until the client notices;
				// a WebSocket notices the first time.
				// Over polling the reason depends on which request the cut
				// hits first: a failed request is a "transport error"; a cut
				// POST makes the server end the session and answer the still
				// pending poll with a close packet: "transport close" (seen
				// against sockio; engine.io's polling close does the same).
				wantReasons := map[string][]string{"websocket": {"transport close"}, "polling": {"transport error", "transport close"}}[ts[0]]
				for attempt := 0; ; attempt++ {
					cut.cutAll()
					select {
					case r := <-rec.ch:
						if !slices.Contains(wantReasons, strings.TrimPrefix(r, "disconnect:")) {
							t.Fatalf("got %q, want disconnect with one of %q", r, wantReasons)
						}
					case <-time.After(200 * time.Millisecond):
						if attempt < 10 {
							continue
						}
						t.Fatal("the client never noticed the cut")
					}
					break
				}
				select {
				case g := <-gone:
					serverReason := map[string]string{"websocket": "transport close", "polling": "transport error"}[ts[0]]
					if g != id+" "+serverReason {
						t.Errorf("server reported %q, want %q", g, id+" "+serverReason)
					}
				case <-ctx.Done():
					t.Fatal("the server did not report the loss")
				}
				to("r", 1)
				to("elsewhere", 99)
				to("r", 2)
				rec.expect(t, 5*time.Second, "news:1", "news:2", "connect recovered=true")
				if !a.Recovered() || a.ID() != id {
					t.Errorf("recovered %v, id %q then %q", a.Recovered(), id, a.ID())
				}
				res, err := a.EmitWithAck(ctx, "rooms")
				if err != nil {
					t.Fatal(err)
				}
				var rooms []string
				if err := res.Decode(0, &rooms); err != nil || len(rooms) != 2 || !slices.Contains(rooms, "r") {
					t.Errorf("rooms after recovery %s (%v), want r and the socket's own", res, err)
				}
				_ = a.Close()
				_ = obs.Close()
				tr.CloseIdleConnections()
				leaks()
			})
		}
	})
}
