package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
	"github.com/sockio/sockio/parser"
)

// The Go client and sockio both with parser.Msgpack, over every
// transport set: events, acks both ways, binary, namespaces, broadcasts
// and connect errors.
func TestMsgpackInProcess(t *testing.T) {
	io := sockio.NewServer(sockio.Options{Parser: parser.Msgpack})
	io.OnConnection(func(s *sockio.Socket) {
		s.Join("room")
		s.On("echo", func(a sockio.Args, ack sockio.Ack) { ack(a) })
		s.On("bin", func(b []byte, m map[string]any, ack sockio.Ack) {
			ack(len(b), m["nested"], []any{b, "x"})
		})
		s.On("shout", func(msg string) { _ = io.To("room").Emit("shouted", msg, []byte{9}) })
		s.On("ask", func(ack sockio.Ack) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "question", 41)
			if err != nil {
				ack("error: " + err.Error())
				return
			}
			var n int
			_ = res.Decode(0, &n)
			ack(n)
		})
	})
	admin := io.Of("/admin")
	admin.Use(func(s *sockio.Socket) error {
		if s.Handshake().Auth["token"] != "secret" {
			return &sockio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 7}}
		}
		return nil
	})
	admin.OnConnection(func(s *sockio.Socket) {
		s.On("who", func(ack sockio.Ack) { ack(s.Namespace().Name(), s.Handshake().Auth["token"]) })
	})
	srv := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Close(ctx)
		srv.Close()
	})

	for _, ts := range transportSets {
		t.Run(tname(ts), func(t *testing.T) {
			leaks := leakCheck(t)
			ctx := timeout(t, 10*time.Second)
			opts := client.Options{Transports: ts, Parser: parser.Msgpack}
			s, err := client.Connect(ctx, srv.URL, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			res, err := s.EmitWithAck(ctx, "echo", "hé", 1.5, -3, nil, true, map[string]any{"k": []any{1, "2"}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.String(), `["hé",1.5,-3,null,true,{"k":[1,"2"]}]`; got != want {
				t.Errorf("echo: %s, want %s", got, want)
			}

			payload := bytes.Repeat([]byte{0, 1, 0xff}, 100)
			res, err = s.EmitWithAck(ctx, "bin", payload, map[string]any{"nested": []byte{1, 2}})
			if err != nil {
				t.Fatal(err)
			}
			var n int
			var nested []byte
			var pair []any
			if err := errors.Join(res.Decode(0, &n), res.Decode(1, &nested), res.Decode(2, &pair)); err != nil {
				t.Fatal(err)
			}
			var pb []byte
			if len(pair) == 2 {
				pb, _ = pair[0].([]byte)
			}
			if n != len(payload) || !bytes.Equal(pb, payload) || !bytes.Equal(nested, []byte{1, 2}) || len(res.Attachments()) != 2 {
				t.Errorf("bin: %d %v %v, %d attachments", n, nested, pair, len(res.Attachments()))
			}

			s.On("question", func(v int, ack client.Ack) { ack(v + 1) })
			res, err = s.EmitWithAck(ctx, "ask")
			if err != nil {
				t.Fatal(err)
			}
			if got := res.String(); got != "[42]" {
				t.Errorf("server's ack round trip: %s", got)
			}

			got := make(chan []any, 1)
			s.On("shouted", func(msg string, b []byte) { got <- []any{msg, b} })
			if err := s.Emit("shout", "hi"); err != nil {
				t.Fatal(err)
			}
			select {
			case v := <-got:
				if v[0] != "hi" || !bytes.Equal(v[1].([]byte), []byte{9}) {
					t.Errorf("broadcast: %v", v)
				}
			case <-ctx.Done():
				t.Fatal("no broadcast")
			}

			// Namespaces, and a refusal with data.
			_, err = client.Connect(ctx, srv.URL+"/admin", opts)
			var ce *client.ConnectError
			if !errors.As(err, &ce) || ce.Message != "unauthorized" || ce.Data.(map[string]any)["code"] != 7.0 {
				t.Errorf("refused connect: %v", err)
			}
			o := opts
			o.Auth = map[string]any{"token": "secret"}
			a, err := client.Connect(ctx, srv.URL+"/admin", o)
			if err != nil {
				t.Fatal(err)
			}
			res, err = a.EmitWithAck(ctx, "who")
			if err != nil {
				t.Fatal(err)
			}
			if got := res.String(); got != `["/admin","secret"]` {
				t.Errorf("admin: %s", got)
			}
			_, err = client.Connect(ctx, srv.URL+"/nowhere", opts)
			if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
				t.Errorf("unknown namespace: %v", err)
			}
			_ = a.Close()
			_ = s.Close()
			leaks()
		})
	}
}

// A default-format client cannot talk to a msgpack server: the server
// closes the connection on its first (text) packet, as a parse error.
func TestMsgpackMismatch(t *testing.T) {
	io := sockio.NewServer(sockio.Options{Parser: parser.Msgpack})
	srv := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Close(ctx)
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := client.New(srv.URL, client.Options{Transports: []string{"websocket"}, DisableReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	closed := make(chan string, 1)
	s.Manager().On("close", func(reason string) {
		closed <- reason
		cancel() // Connect waits for its context once the manager gave up
	})
	if err := s.Connect(ctx); err == nil {
		t.Fatal("a default-format client connected to a msgpack server")
	}
	select {
	case r := <-closed:
		if r != client.ReasonTransportClose {
			t.Errorf("manager closed: %q", r)
		}
	default:
		t.Error("the connection did not close")
	}
}

// The Go client with parser.Msgpack against both contract servers run
// with their msgpack parser (the reference: socket.io-msgpack-parser from
// npm): events, acks both ways, binary, namespaces, broadcasts and
// connect errors.
func TestMsgpackContract(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		srv := startServer(t, tg, "--parser", "msgpack")
		for _, ts := range transportSets {
			t.Run(tname(ts), func(t *testing.T) {
				leaks := leakCheck(t)
				ctx := timeout(t, 10*time.Second)
				opts := client.Options{Transports: ts, Parser: parser.Msgpack}
				s, err := client.Connect(ctx, srv.URL("/"), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()

				big := bytes.Repeat([]byte{7}, 70000)
				res, err := s.EmitWithAck(ctx, "echo", "hé", 1.5, map[string]any{"bin": []byte{1, 2, 3}, "n": nil}, big)
				if err != nil {
					t.Fatal(err)
				}
				var (
					str string
					f   float64
					obj map[string]any
					b   []byte
				)
				if err := errors.Join(res.Decode(0, &str), res.Decode(1, &f), res.Decode(2, &obj), res.Decode(3, &b)); err != nil {
					t.Fatal(err)
				}
				if bin, _ := obj["bin"].([]byte); str != "hé" || f != 1.5 || !bytes.Equal(bin, []byte{1, 2, 3}) || obj["n"] != nil || !bytes.Equal(b, big) {
					t.Errorf("echo gave %q %v %v %d bytes", str, f, obj, len(b))
				}

				s.On("question", func(p string, ack client.Ack) { ack(map[string]any{"echoed": p, "bin": []byte{9}}) })
				res, err = s.EmitWithAck(ctx, "ask", map[string]any{"payload": "p", "timeout": 2000})
				if err != nil {
					t.Fatal(err)
				}
				var ans struct {
					Err    any
					Answer struct {
						Echoed string
						Bin    []byte
					}
				}
				if err := res.Decode(0, &ans); err != nil || ans.Err != nil || ans.Answer.Echoed != "p" || !bytes.Equal(ans.Answer.Bin, []byte{9}) {
					t.Errorf("server's ack: %s %v", res, err)
				}

				// A broadcast to a room this socket and another one joined.
				other, err := client.Connect(ctx, srv.URL("/"), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				for _, c := range []*client.Socket{s, other} {
					if _, err := c.EmitWithAck(ctx, "join", "news-"+tname(ts)); err != nil {
						t.Fatal(err)
					}
				}
				got := make(chan string, 2)
				for _, c := range []*client.Socket{s, other} {
					c.On("news", func(text string, b []byte) { got <- fmt.Sprint(text, b) })
				}
				if _, err := s.EmitWithAck(ctx, "to", map[string]any{
					"rooms": []string{"news-" + tname(ts)}, "event": "news", "args": []any{"hi", []byte{1, 2}},
				}); err != nil {
					t.Fatal(err)
				}
				for range 2 {
					select {
					case g := <-got:
						if g != "hi[1 2]" {
							t.Errorf("broadcast: %s", g)
						}
					case <-ctx.Done():
						t.Fatal("broadcast missing")
					}
				}

				a, err := client.Connect(ctx, srv.URL("/admin"), withAuth(opts, map[string]any{"role": "admin"}))
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				if res, err := a.EmitWithAck(ctx, "whoami"); err != nil || res.String() != `["/admin"]` {
					t.Errorf("whoami: %s %v", res, err)
				}
				var ce *client.ConnectError
				_, err = client.Connect(ctx, srv.URL("/"), withAuth(opts, map[string]any{"token": "bad"}))
				if !errors.As(err, &ce) || ce.Message != "unauthorized" || fmt.Sprint(ce.Data) != "map[reason:bad token]" {
					t.Errorf("refused: %v", err)
				}
				_, err = client.Connect(ctx, srv.URL("/nowhere"), opts)
				if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
					t.Errorf("unknown namespace: %v", err)
				}
				_ = a.Close()
				_ = other.Close()
				_ = s.Close()
				leaks()
			})
		}
	})
}

func withAuth(o client.Options, auth map[string]any) client.Options {
	o.Auth = auth
	return o
}
