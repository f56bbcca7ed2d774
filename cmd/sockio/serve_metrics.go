package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/metrics"
)

// chatEvents are the events the chat's clients send (chat.Chat's
// handlers) and the kept "echo": each gets series of its own, every other
// name is counted as "(other)".
var chatEvents = []string{"join", "message", "private", "rename", "rooms", "typing", "echo"}

// newMetricsRegistry is what --metrics serves: the server's metrics, the
// adapter's, the Go runtime's and the process's.
func newMetricsRegistry(io *sockio.Server, sources []any) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		metrics.New(io, metrics.Options{Events: chatEvents, Adapters: sources}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// startMetrics serves reg at /metrics on addr, a listener of its own: the
// metrics are for the monitoring network, not for the clients' balancer.
// The returned function shuts it down.
func startMetrics(addr string, reg *prometheus.Registry) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelError),
		// A scrape is a few milliseconds; a pile of them is a misconfigured
		// scraper, not a reason to spend the server's CPU.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("sockio metrics: /metrics\n"))
	})
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute, // scrapers keep their connection between scrapes
		MaxHeaderBytes:    16 << 10,
		WriteTimeout:      30 * time.Second,
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics listener stopped", "err", err)
		}
	}()
	slog.Info("metrics", "addr", ln.Addr().String(), "path", "/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			_ = hs.Close()
		}
	}, nil
}

// setupLogging applies --log-level and --log-json to the default logger.
// Text logs keep the default handler's format, which the tests and the
// chat's operators read; only its level changes.
func setupLogging(cfg serveConfig) {
	if cfg.logJSON {
		slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.logLevel})))
		return
	}
	slog.SetLogLoggerLevel(cfg.logLevel)
}
