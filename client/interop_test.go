package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio/client"
)

// The scenarios of this file run against both contract servers (see
// servers_test.go): what passes here passes against sockio and against the
// Node.js reference alike.

var transportSets = [][]string{{"websocket"}, {"polling"}, {"polling", "websocket"}}

func tname(ts []string) string { return strings.Join(ts, "+") }

func TestTransports(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		srv := startServer(t, tg)
		for _, ts := range transportSets {
			t.Run(tname(ts), func(t *testing.T) {
				leaks := leakCheck(t)
				ctx := timeout(t, 10*time.Second)
				rec := newRecorder()
				s, err := client.New(srv.URL("/"), client.Options{Transports: ts})
				if err != nil {
					t.Fatal(err)
				}
				s.Manager().On("upgrade", func(tr string) { rec.add("upgrade:%s", tr) })
				if err := s.Connect(ctx); err != nil {
					t.Fatal(err)
				}
				echo := func() {
					t.Helper()
					res, err := s.EmitWithAck(ctx, "echo", "hello", 42, map[string]any{"bin": []byte{1, 2, 3}})
					if err != nil {
						t.Fatal(err)
					}
					var (
						str string
						n   int
						obj map[string]any
					)
					if err := errors.Join(res.Decode(0, &str), res.Decode(1, &n), res.Decode(2, &obj)); err != nil {
						t.Fatal(err)
					}
					if str != "hello" || n != 42 || !bytes.Equal(obj["bin"].([]byte), []byte{1, 2, 3}) {
						t.Fatalf("echo gave %q %d %v", str, n, obj)
					}
				}
				echo()
				want := ts[0]
				if len(ts) == 2 {
					rec.expect(t, 5*time.Second, "upgrade:websocket")
					want = "websocket"
				}
				echo()
				if got := s.Manager().Transport(); got != want {
					t.Errorf("transport %q, want %q", got, want)
				}
				if len(ts) == 1 {
					rec.none(t, 100*time.Millisecond) // no upgrade
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				leaks()
			})
		}
	})
}

func TestEventsAndAcks(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		srv := startServer(t, tg)
		for _, ts := range transportSets {
			t.Run(tname(ts), func(t *testing.T) {
				leaks := leakCheck(t)
				ctx := timeout(t, 15*time.Second)
				rec := newRecorder()
				s, err := client.New(srv.URL("/"), client.Options{Transports: ts})
				if err != nil {
					t.Fatal(err)
				}
				s.OnAny(func(e *client.Event) { rec.add("any:%s", e.Name) })
				s.On("echo", func(e *client.Event) { rec.add("raw:%s", e.Args.Raw(0)) })
				s.Once("echo", func(a string) { rec.add("once:%s", a) })
				s.On("echo", func(a string, n int, b []byte) { rec.add("typed:%s:%d:%v", a, n, b) })
				s.On("question", func(payload map[string]any, ack client.Ack) {
					ack(map[string]any{"got": payload["q"], "bin": []byte{9}})
				})
				if err := s.Connect(ctx); err != nil {
					t.Fatal(err)
				}

				// An event without ack: the server emits it back.
				if err := s.Emit("echo", "a", 1, []byte{7, 8}); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "any:echo", `raw:"a"`, "once:a", "typed:a:1:[7 8]")
				if err := s.Emit("echo", "b", 2, []byte{}); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "any:echo", `raw:"b"`, "typed:b:2:[]")

				// Binary anywhere in the arguments, and back.
				nested := []any{"x", map[string]any{"deep": []any{[]byte{1}, map[string]any{"b": []byte{2, 3}}}}}
				res, err := s.EmitWithAck(ctx, "echo", nested...)
				if err != nil {
					t.Fatal(err)
				}
				vals, err := res.Values()
				if err != nil || !reflect.DeepEqual(vals, nested) {
					t.Fatalf("binary echo: %#v, %v", vals, err)
				}

				// A typed ack callback.
				got := make(chan string, 1)
				err = s.Timeout(5*time.Second).Emit("echo", "cb", func(err error, v string) {
					got <- fmt.Sprint(v, err)
				})
				if err != nil {
					t.Fatal(err)
				}
				if v := <-got; v != "cb<nil>" {
					t.Fatalf("ack callback got %q", v)
				}

				// An ack that never comes times out.
				errc := make(chan error, 1)
				if err := s.Timeout(200*time.Millisecond).Emit("no such event", 1, func(err error) { errc <- err }); err != nil {
					t.Fatal(err)
				}
				if err := <-errc; !errors.Is(err, client.ErrTimeout) {
					t.Fatalf("ack error %v, want ErrTimeout", err)
				}
				if _, err := s.Timeout(200*time.Millisecond).EmitWithAck(ctx, "no such event"); !errors.Is(err, client.ErrTimeout) {
					t.Fatalf("EmitWithAck error %v, want ErrTimeout", err)
				}

				// The server asks and the client acknowledges (with binary).
				res, err = s.EmitWithAck(ctx, "ask", map[string]any{"payload": map[string]any{"q": "why"}, "timeout": 5000})
				if err != nil {
					t.Fatal(err)
				}
				var answer struct {
					Err    any `json:"err"`
					Answer struct {
						Got string `json:"got"`
					} `json:"answer"`
				}
				if err := res.Decode(0, &answer); err != nil || answer.Err != nil || answer.Answer.Got != "why" {
					t.Fatalf("ask: %s, %v", res, err)
				}
				rec.expect(t, 5*time.Second, "any:question")

				// Off removes the handlers; OnAny still sees the event.
				s.Off("echo")
				if err := s.Emit("echo", "c"); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "any:echo")
				rec.none(t, 100*time.Millisecond)

				if err := s.Emit("disconnect"); !errors.Is(err, client.ErrReservedEvent) {
					t.Errorf("reserved event: %v", err)
				}
				_ = s.Close()
				leaks()
			})
		}
	})
}

func TestNamespacesOverOneConnection(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		srv := startServer(t, tg)
		leaks := leakCheck(t)
		ctx := timeout(t, 10*time.Second)
		rec := newRecorder()
		m, err := client.NewManager(srv.URL(""), client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m.On("open", func() { rec.add("open") })
		root := m.Socket("/", client.SocketOptions{})
		admin := m.Socket("/admin", client.SocketOptions{Auth: map[string]any{"role": "admin"}})
		dyn := m.Socket("dyn-42", client.SocketOptions{})
		for _, s := range []*client.Socket{root, admin, dyn} {
			if err := s.Connect(ctx); err != nil {
				t.Fatalf("%s: %v", s.Namespace(), err)
			}
		}
		sid := m.SessionID()
		for _, s := range []*client.Socket{admin, dyn} {
			res, err := s.EmitWithAck(ctx, "whoami")
			var name string
			if err == nil {
				err = res.Decode(0, &name)
			}
			if err != nil || name != s.Namespace() {
				t.Fatalf("whoami on %s: %q, %v", s.Namespace(), name, err)
			}
		}
		rec.expect(t, time.Second, "open")
		// Leaving one namespace keeps the connection for the others.
		admin.Disconnect()
		if _, err := dyn.EmitWithAck(ctx, "echo", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := root.EmitWithAck(ctx, "echo", 1); err != nil {
			t.Fatal(err)
		}
		if got := m.SessionID(); got != sid || sid == "" {
			t.Errorf("session %q then %q: want one connection", sid, got)
		}
		// Coming back to a namespace reuses the connection too.
		if err := admin.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		rec.none(t, 100*time.Millisecond)
		if root.ID() == admin.ID() || root.ID() == "" {
			t.Errorf("socket ids %q and %q", root.ID(), admin.ID())
		}
		// A closed socket is final; the manager makes a new one for its namespace.
		_ = admin.Close()
		if err := admin.Connect(ctx); !errors.Is(err, client.ErrClosed) {
			t.Errorf("Connect after Close: %v", err)
		}
		// A round trip first: the reference removes a disconnected socket a
		// tick later, and a CONNECT to the same namespace handled in the
		// same tick as the DISCONNECT makes it close the whole connection
		// ("invalid state").
		if _, err := root.EmitWithAck(ctx, "echo", 1); err != nil {
			t.Fatal(err)
		}
		admin = m.Socket("/admin", client.SocketOptions{Auth: map[string]any{"role": "admin"}})
		if err := admin.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if got := m.SessionID(); got != sid {
			t.Errorf("session %q then %q: want one connection", sid, got)
		}
		_ = m.Close()
		for _, s := range []*client.Socket{root, admin, dyn} {
			if s.Connected() {
				t.Errorf("%s still connected after Manager.Close", s.Namespace())
			}
			if err := s.Connect(ctx); !errors.Is(err, client.ErrClosed) {
				t.Errorf("Connect after Manager.Close: %v", err)
			}
		}
		leaks()
	})
}

func TestMiddlewareRejection(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		srv := startServer(t, tg)
		for _, tc := range []struct {
			name, path string
			auth       any
			want       client.ConnectError
		}{
			{"bad token", "/", map[string]any{"token": "bad"}, client.ConnectError{Message: "unauthorized", Data: map[string]any{"reason": "bad token"}}},
			{"no role", "/admin", nil, client.ConnectError{Message: "forbidden"}},
			{"unknown namespace", "/nope", nil, client.ConnectError{Message: "Invalid namespace"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				leaks := leakCheck(t)
				ctx := timeout(t, 10*time.Second)
				rec := newRecorder()
				s, err := client.New(srv.URL(tc.path), client.Options{Auth: tc.auth})
				if err != nil {
					t.Fatal(err)
				}
				s.On("connect_error", func(err error) { rec.add("connect_error:%v", err) })
				s.Manager().On("reconnect_attempt", func(int) { rec.add("reconnect_attempt") })
				err = s.Connect(ctx)
				var ce *client.ConnectError
				if !errors.As(err, &ce) || !reflect.DeepEqual(*ce, tc.want) {
					t.Fatalf("Connect error %#v, want %#v", err, tc.want)
				}
				rec.expect(t, time.Second, "connect_error:"+tc.want.Error())
				if s.Active() {
					t.Error("a refused socket is still active")
				}
				rec.none(t, 300*time.Millisecond) // and it does not retry
				_ = s.Close()
				leaks()
			})
		}
		// Connect releases everything when it fails.
		leaks := leakCheck(t)
		_, err := client.Connect(timeout(t, 10*time.Second), srv.URL("/"), client.Options{Auth: map[string]any{"token": "bad"}})
		if err == nil {
			t.Fatal("connected with a bad token")
		}
		leaks()
	})
}

func TestServerDisconnect(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		srv := startServer(t, tg)
		leaks := leakCheck(t)
		ctx := timeout(t, 10*time.Second)
		rec := newRecorder()
		s, err := client.New(srv.URL("/"), client.Options{ReconnectionDelay: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		s.On("disconnect", func(reason string) { rec.add("disconnect:%s", reason) })
		s.Manager().On("reconnect_attempt", func(int) { rec.add("reconnect_attempt") })
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		pending := make(chan error, 1)
		_ = s.Emit("no such event", func(err error) { pending <- err })
		if err := s.Emit("disconnect-me", false); err != nil {
			t.Fatal(err)
		}
		rec.expect(t, 5*time.Second, "disconnect:io server disconnect")
		if err := <-pending; !errors.Is(err, client.ErrDisconnected) {
			t.Errorf("pending ack: %v, want ErrDisconnected", err)
		}
		if s.Active() || s.Connected() {
			t.Error("socket still active after a server-side disconnect")
		}
		rec.none(t, 300*time.Millisecond) // no reconnection
		// The socket may connect again.
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EmitWithAck(ctx, "echo", 1); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		rec.expect(t, time.Second, "disconnect:io client disconnect")
		leaks()
	})
}

func TestQueryAuthHandshake(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		srv := startServer(t, tg)
		leaks := leakCheck(t)
		ctx := timeout(t, 10*time.Second)
		calls := 0
		s, err := client.Connect(ctx, srv.URL("/?k=fromurl"), client.Options{
			AuthFunc: func(ctx context.Context) (any, error) {
				calls++
				return map[string]any{"token": "t", "n": calls}, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.EmitWithAck(ctx, "handshake")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(res.Raw(0)), `{"query":{"k":"fromurl"},"auth":{"n":1,"token":"t"},"hasAddress":true}`; !jsonEqual(got, want) {
			t.Errorf("handshake %s, want %s", got, want)
		}
		_ = s.Close()
		leaks()
	})
}
