package client_test

import (
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/sockio/sockio/client"
)

// recoveryServer is the Node.js reference with connection-state recovery
// on (testdata/recovery-server.mjs); sockio has no recovery yet.
var recoveryServer = target{"node-recovery", func(port int, flags ...string) *exec.Cmd {
	return exec.Command("node", append([]string{"testdata/recovery-server.mjs", "--port", strconv.Itoa(port)}, flags...)...)
}}

// TestConnectionStateRecovery loses the connection while the server emits
// to the socket's room: on reconnection the client presents its pid and
// last offset, the server restores the session, and the missed events
// arrive, in order.
func TestConnectionStateRecovery(t *testing.T) {
	if nodeSkip != "" {
		t.Skip(nodeSkip)
	}
	for _, ts := range [][]string{{"websocket"}, {"polling"}} {
		t.Run(tname(ts), func(t *testing.T) {
			srv := startServer(t, recoveryServer)
			leaks := leakCheck(t)
			ctx := timeout(t, 20*time.Second)
			rec := newRecorder()
			opts := fastOptions(ts)
			opts.ReconnectionDelay = 300 * time.Millisecond // after the server's missed emits
			opts.RandomizationFactor = -1
			opts.Auth = map[string]any{"user": "u1"}
			s, err := client.New(srv.URL("/"), opts)
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
				Recovered bool
				Auth      struct{ User, PID, Offset string }
			}
			if err := res.Decode(0, &who); err != nil {
				t.Fatal(err)
			}
			if !who.Recovered || who.Auth.User != "u1" || who.Auth.PID == "" || who.Auth.Offset == "" {
				t.Errorf("server saw %s", res)
			}
			_ = s.Close()
			leaks()
		})
	}
}
