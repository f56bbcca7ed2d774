package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockio/sockio/client"
)

// fast reconnection settings: the tests wait for real reconnections.
func fastOptions(ts []string) client.Options {
	return client.Options{
		Transports:           ts,
		ReconnectionDelay:    100 * time.Millisecond,
		ReconnectionDelayMax: 400 * time.Millisecond,
		Timeout:              time.Second,
	}
}

// TestRestart stops the server, emits while it is down, starts it again on
// the same port: the client reconnects on its own and the buffered emits
// arrive in order, volatile ones dropped.
func TestRestart(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		for _, ts := range [][]string{{"websocket"}, {"polling"}} {
			t.Run(tname(ts), func(t *testing.T) {
				srv := startServer(t, tg)
				leaks := leakCheck(t)
				ctx := timeout(t, 30*time.Second)
				rec := newRecorder()
				var authCalls atomic.Int32
				opts := fastOptions(ts)
				opts.AuthFunc = func(context.Context) (any, error) {
					return map[string]any{"n": authCalls.Add(1)}, nil
				}
				s, err := client.New(srv.URL("/"), opts)
				if err != nil {
					t.Fatal(err)
				}
				s.On("connect", func() { rec.add("connect") })
				s.On("disconnect", func(reason string) { rec.add("disconnect") })
				s.On("echo", func(v string) { rec.add("echo:%s", v) })
				m := s.Manager()
				m.On("reconnect", func(int) { rec.add("reconnect") })
				if err := s.Connect(ctx); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "connect")
				firstID := s.ID()

				reasons := make(chan string, 1)
				s.Once("disconnect", func(reason string) { reasons <- reason })
				srv.stop()
				rec.expect(t, 10*time.Second, "disconnect")
				t.Logf("%s server stopped: client disconnect reason %q", tg.name, <-reasons)

				for i := range 5 {
					if err := s.Emit("echo", fmt.Sprint(i)); err != nil {
						t.Fatalf("offline emit %d: %v", i, err)
					}
				}
				if err := s.Volatile().Emit("echo", "volatile"); err != nil {
					t.Fatal(err)
				}
				acked := make(chan error, 1)
				go func() {
					res, err := s.EmitWithAck(ctx, "echo", "with ack")
					if err == nil && string(res.Raw(0)) != `"with ack"` {
						err = fmt.Errorf("ack %s", res)
					}
					acked <- err
				}()

				srv.startAgain()
				rec.waitFor(t, 15*time.Second, "connect")
				rec.expect(t, 5*time.Second, "echo:0", "echo:1", "echo:2", "echo:3", "echo:4")
				if err := <-acked; err != nil {
					t.Fatalf("ack of an offline EmitWithAck: %v", err)
				}
				rec.none(t, 200*time.Millisecond) // the volatile emit was dropped
				if s.ID() == firstID || s.Recovered() {
					t.Errorf("id %q then %q, recovered %v: want a new session", firstID, s.ID(), s.Recovered())
				}
				// AuthFunc ran again for the new CONNECT.
				res, err := s.EmitWithAck(ctx, "handshake")
				if err != nil {
					t.Fatal(err)
				}
				var hs struct{ Auth struct{ N int } }
				if err := res.Decode(0, &hs); err != nil || hs.Auth.N != 2 {
					t.Errorf("handshake %s: want auth n=2", res)
				}
				_ = s.Close()
				leaks()
			})
		}
	})
}

// TestServerSilent pauses the server (SIGSTOP): no more pings, so the
// client declares the connection lost after pingInterval+pingTimeout, and
// reconnects once the server runs again.
func TestServerSilent(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		for _, ts := range [][]string{{"websocket"}, {"polling"}} {
			t.Run(tname(ts), func(t *testing.T) { testServerSilent(t, tg, ts) })
		}
	})
}

func testServerSilent(t *testing.T, tg target, ts []string) {
	srv := startServer(t, tg, "--ping-interval", "300", "--ping-timeout", "200")
	leaks := leakCheck(t)
	ctx := timeout(t, 30*time.Second)
	rec := newRecorder()
	s, err := client.New(srv.URL("/"), fastOptions(ts))
	if err != nil {
		t.Fatal(err)
	}
	s.On("connect", func() { rec.add("connect") })
	s.On("disconnect", func(reason string) { rec.add("disconnect:%s", reason) })
	s.On("echo", func(v string) { rec.add("echo:%s", v) })
	pings := make(chan struct{}, 100)
	s.Manager().On("ping", func() { pings <- struct{}{} })
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, 5*time.Second, "connect")
	// The client answers pings: the connection outlives several intervals.
	for range 3 {
		select {
		case <-pings:
		case <-time.After(5 * time.Second):
			t.Fatal("no ping")
		}
	}
	if !s.Connected() {
		t.Fatal("disconnected while answering pings")
	}

	srv.pause()
	rec.expect(t, 5*time.Second, "disconnect:ping timeout")
	if err := s.Emit("echo", "after"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // attempts hang on the paused server and time out
	srv.resume()
	rec.waitFor(t, 15*time.Second, "connect")
	rec.expect(t, 5*time.Second, "echo:after")
	_ = s.Close()
	leaks()
}

// TestReconnectionAttempts stops the server for good: the manager makes
// exactly ReconnectionAttempts attempts, one at a time, then gives up.
func TestReconnectionAttempts(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		srv := startServer(t, tg)
		leaks := leakCheck(t)
		ctx := timeout(t, 20*time.Second)
		rec := newRecorder()
		opts := fastOptions(nil)
		opts.ReconnectionAttempts = 3
		s, err := client.New(srv.URL("/"), opts)
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manager()
		m.On("reconnect_attempt", func(n int) { rec.add("attempt %d", n) })
		m.On("reconnect_error", func(error) { rec.add("error") })
		m.On("reconnect_failed", func() { rec.add("failed") })
		s.On("disconnect", func(string) { rec.add("disconnect") })
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		srv.kill()
		// The reference's order: the last failure reports "failed" before
		// its "error".
		rec.expect(t, 10*time.Second, "disconnect",
			"attempt 1", "error", "attempt 2", "error", "attempt 3", "failed", "error")
		rec.none(t, time.Second) // no attempt after giving up
		if !s.Active() || s.Connected() {
			t.Errorf("active %v connected %v after giving up", s.Active(), s.Connected())
		}

		// A Connect waiting at that time learns of it.
		s2, err := client.New(srv.URL("/"), opts)
		if err != nil {
			t.Fatal(err)
		}
		err = s2.Connect(ctx)
		if !errors.Is(err, client.ErrReconnectFailed) {
			t.Errorf("Connect to a dead server: %v, want ErrReconnectFailed", err)
		}
		_ = s2.Close()
		_ = s.Close()
		leaks()
	})
}
