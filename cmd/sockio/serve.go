package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
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
	proxies := fs.String("trusted-proxies", "", `reverse proxies (CIDR prefixes, comma-separated: "10.0.0.0/8") whose X-Forwarded-For names the client for the chat's per-address limits; none by default`)
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
	trusted, err := prefixList(*proxies)
	if err != nil {
		return fmt.Errorf("serve: bad --trusted-proxies: %w", err)
	}
	copts := chat.Options{TrustedProxies: trusted}
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
	room := chat.New(io.Of("/"), copts)

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	// More specific than "/socket.io/", so these win (Go 1.22 ServeMux).
	client := web.Client()
	for _, name := range web.ClientFiles {
		mux.Handle("GET /socket.io/"+name, client)
	}
	// The same chat for plain-WebSocket users (/plain.html connects here).
	// One origin list for both: --origins widens /ws as it widens Socket.IO.
	plain := chat.NewPlain(chat.Options{
		TrustedProxies: trusted,
		CheckOrigin:    engineio.OriginChecker(sopts.AllowedOrigins),
	})
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
		_ = room.Flush(ctx) // the history written behind delivery
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

// prefixList parses --trusted-proxies: comma-separated CIDR prefixes, or
// bare addresses (one host each).
func prefixList(arg string) ([]netip.Prefix, error) {
	var list []netip.Prefix
	for _, f := range strings.Split(arg, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			list = append(list, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		list = append(list, p.Masked())
	}
	return list, nil
}

// browsable turns a listen address into one a browser can open.
func browsable(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}
