package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/web"
)

// departureGrace is how long the chat waits, with recovery on, before
// telling a room that someone whose connection dropped left: most blips
// (a tunnel, a Wi-Fi handover, a node restart) are over by then.
const departureGrace = 30 * time.Second

func init() {
	register("serve", "run the chat room on Socket.IO (in memory, or one node of a Redis or NATS cluster)", runServe)
}

func runServe(args []string) error {
	cfg, err := parseServe(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	setupLogging(cfg)
	for _, w := range cfg.warnings {
		slog.Warn(w)
	}
	if cfg.debugAddr != "" {
		stop, err := startDebug(cfg.debugAddr)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer stop()
	}

	sopts := sockio.Options{
		Path:              cfg.path,
		PingInterval:      cfg.pingInterval,
		PingTimeout:       cfg.pingTimeout,
		MaxHTTPBufferSize: cfg.maxBuffer,
		Transports:        cfg.transports,
		AllowEIO3:         cfg.allowEIO3,
	}
	if cfg.webtransport != "" {
		sopts.Transports = withWebTransport(sopts.Transports)
	}
	// Same-origin only by default: the chat's pages come from this server,
	// and no other site's page may drive a visitor's connection.
	sopts.AllowedOrigins = originList(cfg.origins)
	if cfg.recovery > 0 {
		sopts.ConnectionStateRecovery = &sockio.RecoveryOptions{MaxDisconnectionDuration: cfg.recovery}
	}
	cl, err := openCluster(cfg, slog.Default())
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// Closed after the server and the chat's last history writes.
	defer func() { _ = cl.close() }()
	sopts.Adapter = cl.adapter

	// No TCP keep-alive: Engine.IO's heartbeat finds dead peers, and
	// keep-alive costs three setsockopt calls per accepted connection.
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer ln.Close() // when a later step fails; a no-op after Serve
	scheme := "http"
	if cfg.tls != nil {
		// net/http finds the *tls.Conn and serves HTTP/1.1 over it, which
		// the websocket upgrade needs; sockio.Serve hands TLS connections
		// to it whole.
		ln = tls.NewListener(ln, cfg.tls)
		scheme = "https"
	}
	peers, err := startPeers(cfg, cl, ln.Addr(), scheme)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if peers != nil {
		defer func() { _ = peers.Close() }() // before the broker closes
		sopts.Forwarding = peers.Forwarding()
	}
	copts := chat.Options{TrustedProxies: cfg.proxies, History: cl.history}
	if cfg.recovery > 0 {
		// A page that comes back recovered within this never left, for the
		// room: no "left" line for a blip.
		copts.DepartureGrace = min(cfg.recovery, departureGrace)
	}
	io := sockio.NewServer(sopts)
	io.OnConnection(func(s *sockio.Socket) {
		// Kept from the first `serve`: a quick check with any client.
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
	})
	room := chat.New(io.Of("/"), copts)
	if cfg.webtransport != "" {
		stopWT, err := startWebTransport(cfg.webtransport, cfg.path, cfg.tls, io)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer stopWT()
	}

	if cfg.metricsAddr != "" {
		stop, err := startMetrics(cfg.metricsAddr, newMetricsRegistry(io, cl.statsSources))
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer stop()
	}

	mux := http.NewServeMux()
	mux.Handle(cfg.path, io)
	// More specific than the path, so these win (Go 1.22 ServeMux). The
	// chat's pages import the client from /socket.io/ whatever --path.
	client := web.Client()
	for _, name := range web.ClientFiles {
		mux.Handle("GET "+cfg.path+name, client)
		if cfg.path != "/socket.io/" {
			mux.Handle("GET /socket.io/"+name, client)
		}
	}
	// The same chat for plain-WebSocket users (/plain.html connects here).
	// One origin list for both: --origins widens /ws as it widens Socket.IO.
	plain := chat.NewPlain(chat.Options{
		TrustedProxies: cfg.proxies,
		CheckOrigin:    engineio.OriginChecker(sopts.AllowedOrigins),
	})
	mux.Handle("/ws", plain)
	mux.Handle("/", web.Pages())
	health(mux, io)
	stopAdmin, err := startAdmin(cfg.admin, io, mux)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer stopAdmin()
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

	slog.Info("sockio chat serving", "addr", ln.Addr().String(), "open", scheme+"://"+browsable(ln.Addr()),
		"adapter", cfg.adapter, "recovery", cfg.recovery.String(), "path", cfg.path, "transports", strings.Join(cfg.transports, ","))
	if cfg.path != "/socket.io/" {
		slog.Warn("the chat pages connect to /socket.io/: with --path " + cfg.path + " only clients given that path connect")
	}
	err = runUntilSignal(func() error { return sockio.Serve(ln, hs) }, func(ctx context.Context) error {
		// Not ready first, still serving: the balancer stops sending new
		// clients; then the clients are handed off (they reconnect to the
		// other nodes and recover there), and the forwarded requests
		// still in flight end with the HTTP server's shutdown.
		io.Drain()
		if cfg.drainDelay > 0 {
			slog.Info("draining: not ready, handing clients off in", "delay", cfg.drainDelay)
			select {
			case <-time.After(cfg.drainDelay):
			case <-ctx.Done():
			}
		}
		start := time.Now()
		_ = io.Shutdown(ctx)
		slog.Info("clients handed off", "took", time.Since(start).Round(time.Millisecond))
		_ = room.Flush(ctx) // the history written behind delivery
		_ = plain.Shutdown(ctx)
		return hs.Shutdown(ctx)
	}, cfg.drainDelay+cfg.shutdownTimeout, http.ErrServerClosed)
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
