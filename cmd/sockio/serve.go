package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/sockio/sockio"
	redisadapter "github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/chat/redishistory"
	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/web"
)

func init() {
	register("serve", "run the chat room on Socket.IO (in memory, no external service)", runServe)
}

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", ":3000", "listen address")
	redisURL := fs.String("redis", "", "Redis URL (redis://host:6379/0): run as one node of a cluster, history in Redis")
	origins := fs.String("origins", "", `browser origins allowed besides the chat's own, comma-separated ("https://a.example,*.b.example"); "*" for any`)
	debugAddr := fs.String("debug-addr", "", "serve pprof and expvar on this loopback address (127.0.0.1:6060); off when empty")
	_ = fs.Parse(args)
	if *debugAddr != "" {
		stop, err := startDebug(*debugAddr)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer stop()
	}

	var sopts sockio.Options
	// Same-origin only by default: the chat's pages come from this server,
	// and no other site's page may drive a visitor's connection.
	sopts.AllowedOrigins = originList(*origins)
	var copts chat.Options
	if *redisURL != "" {
		ro, err := goredis.ParseURL(*redisURL)
		if err != nil {
			return fmt.Errorf("serve: bad --redis: %w", err)
		}
		rdb := goredis.NewClient(ro)
		defer rdb.Close()
		sopts.Adapter = redisadapter.NewAdapter(rdb, redisadapter.Options{})
		copts.History = redishistory.New(rdb, redishistory.Options{})
		slog.Info("clustering through Redis", "addr", ro.Addr)
	}
	io := sockio.NewServer(sopts)
	io.OnConnection(func(s *sockio.Socket) {
		// Kept from the first `serve`: a quick check with any client.
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
	})
	chat.New(io.Of("/"), copts)

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	// More specific than "/socket.io/", so these win (Go 1.22 ServeMux).
	client := web.Client()
	for _, name := range web.ClientFiles {
		mux.Handle("GET /socket.io/"+name, client)
	}
	// The same chat for plain-WebSocket users (/plain.html connects here).
	plain := chat.NewPlain(chat.Options{})
	mux.Handle("/ws", plain)
	mux.Handle("/", web.Pages())

	// No TCP keep-alive: Engine.IO's heartbeat finds dead peers, and
	// keep-alive costs three setsockopt calls per accepted connection.
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// The limits sockio.Serve would fill in, spelled out: they are the
	// server's defence against idle, slow and oversized requests (see
	// sockio.DefaultIdleTimeout and the others). No WriteTimeout: a long
	// poll is answered up to the ping interval (25 s) after its request.
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: sockio.DefaultReadHeaderTimeout,
		IdleTimeout:       sockio.DefaultIdleTimeout,
		MaxHeaderBytes:    sockio.DefaultMaxHeaderBytes,
	}

	slog.Info("sockio chat serving", "addr", ln.Addr().String(), "open", "http://"+browsable(ln.Addr()))
	err = runUntilSignal(func() error { return sockio.Serve(ln, hs) }, func(ctx context.Context) error {
		_ = io.Close(ctx)
		_ = plain.Shutdown(ctx)
		return hs.Shutdown(ctx)
	}, 10*time.Second, http.ErrServerClosed)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// originList turns --origins into AllowedOrigins: the server's own origin
// always, and those listed.
func originList(arg string) []string {
	list := []string{engineio.SameOrigin}
	for _, o := range strings.Split(arg, ",") {
		if o = strings.TrimSpace(o); o != "" {
			list = append(list, o)
		}
	}
	return list
}

// browsable turns a listen address into one a browser can open.
func browsable(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}
