package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
)

// health serves the balancer's probes: /healthz answers 200 while the
// process serves; /readyz answers 503 once the node drains (SIGTERM), so
// that the balancer sends new clients elsewhere.
func health(mux *http.ServeMux, io *sockio.Server) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if io.Draining() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

// startPeers starts the directory of nodes that --forwarding needs, when
// clustered; nil otherwise.
func startPeers(cfg serveConfig, cl *servedCluster, addr net.Addr, scheme string) (*cluster.Peers, error) {
	if !cfg.forwarding || cl.broker == nil {
		return nil, nil
	}
	u := cfg.advertise
	if u == "" {
		u = scheme + "://" + advertiseHost(addr)
	}
	peers, err := cluster.NewPeers(cl.broker, cluster.PeersOptions{URL: u, Logger: slog.Default()})
	if err != nil {
		return nil, fmt.Errorf("bad --advertise: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := peers.Start(ctx); err != nil {
		return nil, err
	}
	slog.Info("forwarding requests between nodes: no sticky sessions needed", "node", peers.Node(), "advertise", u)
	return peers, nil
}

// advertiseHost is host:port at which the other nodes reach this one: the
// listen address, or, when it is all addresses, this host's first
// non-loopback IPv4 address (a container's or a VM's own), or loopback.
func advertiseHost(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	port := strconv.Itoa(ta.Port)
	if !ta.IP.IsUnspecified() {
		return net.JoinHostPort(ta.IP.String(), port)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
				return net.JoinHostPort(ipn.IP.String(), port)
			}
		}
	}
	return net.JoinHostPort("127.0.0.1", port)
}
