// Command goserver implements test/interop/CONTRACT.md on sockio, for the
// interop tests that drive it with the official socket.io-client.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/parser"
)

func main() {
	port := flag.Int("port", 0, "port (0 = any)")
	pingInterval := flag.Int("ping-interval", 25000, "ms")
	pingTimeout := flag.Int("ping-timeout", 20000, "ms")
	maxBuf := flag.Int64("max-http-buffer-size", 1e6, "bytes")
	connectTimeout := flag.Int("connect-timeout", 45000, "ms")
	recovery := flag.Int("recovery", 0, "connection-state recovery window in ms (0 = off)")
	allowEIO3 := flag.Int("allow-eio3", 0, "1: also serve Socket.IO v2 clients (Engine.IO 3)")
	parserName := flag.String("parser", "default", "packet format: default or msgpack (socket.io-msgpack-parser)")
	flag.Parse()
	var codec parser.Codec
	switch *parserName {
	case "default":
	case "msgpack":
		codec = parser.Msgpack
	default:
		fmt.Fprintf(os.Stderr, "unknown parser %q\n", *parserName)
		os.Exit(2)
	}
	var rec *sockio.RecoveryOptions
	if *recovery > 0 {
		rec = &sockio.RecoveryOptions{MaxDisconnectionDuration: time.Duration(*recovery) * time.Millisecond}
	}

	io := sockio.NewServer(sockio.Options{
		PingInterval:      time.Duration(*pingInterval) * time.Millisecond,
		PingTimeout:       time.Duration(*pingTimeout) * time.Millisecond,
		MaxHTTPBufferSize: *maxBuf,
		ConnectTimeout:    time.Duration(*connectTimeout) * time.Millisecond,
		CORS:              &sockio.CORS{Credentials: true},

		ConnectionStateRecovery: rec,
		AllowEIO3:               *allowEIO3 > 0,
		Parser:                  codec,
	})
	setup(io)

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hs := &http.Server{Handler: io}
	fmt.Printf("listening on %s\n", ln.Addr())
	// Through sockio.Serve, so the suites cover its upgrade shortcut
	// (websocket) and its hand-over to net/http (polling).
	go func() { _ = sockio.Serve(ln, hs) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go exitWithParent(sig)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = io.Close(ctx)
	_ = hs.Shutdown(ctx)
}

func setup(io *sockio.Server) {
	root := io.Of("/")
	root.Use(func(s *sockio.Socket) error {
		// The query too: a Socket.IO v2 client (EIO=3) cannot send auth on "/".
		if s.Handshake().Auth["token"] == "bad" || s.Handshake().Query.Get("token") == "bad" {
			return &sockio.ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "bad token"}}
		}
		return nil
	})
	root.OnConnection(func(s *sockio.Socket) { common(s); rootEvents(io, s) })

	admin := io.Of("/admin")
	admin.Use(func(s *sockio.Socket) error {
		if s.Handshake().Auth["role"] != "admin" {
			return &sockio.ConnectError{Message: "forbidden"}
		}
		return nil
	})
	admin.OnConnection(common)

	dyn := io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	dyn.OnConnection(common)
}

// common are the events of every namespace: echo and whoami; and every
// disconnect is reported to room "observers" of "/".
func common(s *sockio.Socket) {
	io := s.Namespace().Server()
	s.OnDisconnect(func(reason string) {
		_ = io.To("observers").Emit("gone", map[string]string{"id": s.ID(), "nsp": s.Namespace().Name(), "reason": reason})
	})
	s.On("echo", func(e *sockio.Event) {
		if e.WantsAck() {
			_ = e.Ack(e.Args)
			return
		}
		_ = s.Emit("echo", e.Args)
	})
	s.On("whoami", func(ack sockio.Ack) { ack(s.Namespace().Name()) })
}

func rootEvents(io *sockio.Server, s *sockio.Socket) {
	s.On("observe", func(ack sockio.Ack) { s.Join("observers"); ack() })
	s.On("join", func(room string, ack sockio.Ack) { s.Join(room); ack() })
	s.On("leave", func(room string, ack sockio.Ack) { s.Leave(room); ack() })
	s.On("rooms", func(ack sockio.Ack) { ack(s.Rooms()) })
	s.On("handshake", func(ack sockio.Ack) {
		hs := s.Handshake()
		var k any
		if v, ok := hs.Query["k"]; ok && len(v) > 0 {
			k = v[0]
		}
		ack(map[string]any{"query": map[string]any{"k": k}, "auth": hs.Auth, "hasAddress": hs.Address != ""})
	})
	s.On("to", func(e *sockio.Event) {
		var spec struct {
			Rooms    []string `json:"rooms"`
			Except   []string `json:"except"`
			Event    string   `json:"event"`
			Volatile bool     `json:"volatile"`
		}
		var raw map[string]any
		_ = e.Args.Decode(0, &spec)
		_ = e.Args.Decode(0, &raw) // keeps binary arguments as []byte
		op := io.To(spec.Rooms...).Except(spec.Except...)
		if spec.Volatile {
			op = op.Volatile()
		}
		args, _ := raw["args"].([]any)
		_ = op.Emit(spec.Event, args...)
		_ = e.Ack()
	})
	s.On("ask", func(e *sockio.Event) {
		var spec map[string]any
		_ = e.Args.Decode(0, &spec)
		timeout, _ := spec["timeout"].(float64)
		// The callback form keeps this handler short, as the reference's is:
		// the client's next events are not held up while it answers.
		_ = s.Timeout(time.Duration(timeout)*time.Millisecond).Emit("question", spec["payload"], func(err error, res sockio.Args) {
			if err != nil {
				_ = e.Ack(map[string]any{"err": "timeout", "answer": nil})
				return
			}
			var answer any
			_ = res.Decode(0, &answer)
			_ = e.Ack(map[string]any{"err": nil, "answer": answer})
		})
	})
	s.On("ask-all", func(spec struct {
		Rooms   []string `json:"rooms"`
		Timeout int      `json:"timeout"`
	}, ack sockio.Ack) {
		_ = io.To(spec.Rooms...).Timeout(time.Duration(spec.Timeout)*time.Millisecond).Emit("question", "all", func(err error, res []sockio.Args) {
			// Sorted by their JSON text, as the reference contract server does.
			answers := make([]json.RawMessage, 0, len(res))
			for _, r := range res {
				a := r.Raw(0)
				if a == nil {
					a = json.RawMessage("null")
				}
				answers = append(answers, a)
			}
			slices.SortFunc(answers, func(x, y json.RawMessage) int { return strings.Compare(string(x), string(y)) })
			var e any
			if err != nil {
				e = "timeout"
			}
			ack(map[string]any{"err": e, "answers": answers})
		})
	})
	s.On("volatile-burst", func(n int, ack sockio.Ack) {
		_ = s.Emit("seq", map[string]int{"i": 0})
		for k := 0; k < n; k++ {
			_ = s.Volatile().Emit("v", map[string]int{"i": k})
		}
		_ = s.Emit("seq", map[string]int{"i": 1})
		ack()
	})
	s.On("disconnect-me", func(close bool) {
		if close {
			s.Close()
		} else {
			s.Disconnect()
		}
	})
	s.On("sockets", func(ack sockio.Ack) {
		list, _ := io.FetchSockets(context.Background())
		ids := make([]string, 0, len(list))
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		ack(ids)
	})
	s.On("socketsJoin", func(room string, ack sockio.Ack) { io.SocketsJoin(room); ack() })
}

// exitWithParent stops the server when the test process that started it
// dies, so a killed test run leaves no server behind.
func exitWithParent(sig chan<- os.Signal) {
	parent := os.Getppid()
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			sig <- syscall.SIGTERM
			return
		}
	}
}
