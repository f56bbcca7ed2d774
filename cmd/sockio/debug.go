package main

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"sync"
	"time"
)

// publishOnce guards expvar.Publish, which panics on a second use of a name.
var publishOnce sync.Once

// startDebug serves net/http/pprof and expvar on addr, which must be a
// loopback address: profiles and variables show a process's internals
// (command line, memory, stacks) and a profile costs CPU, so they are never
// offered to the network. The expvar variable "goroutines" is
// runtime.NumGoroutine, read by the soak test (test/soak); GET
// /debug/pprof/heap?gc=1 forces a garbage collection first.
//
// The handlers are on a mux of their own, not http.DefaultServeMux, so no
// other server of the process exposes them by accident. The returned
// function shuts the listener down, waiting a second at most for requests
// in flight (a profile being taken is cut).
func startDebug(addr string) (stop func(), err error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener: %w", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		_ = ln.Close() // "localhost" resolved to something else
		return nil, fmt.Errorf("--debug-addr %q: bound %s, not a loopback address", addr, ln.Addr())
	}
	publishOnce.Do(func() {
		expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	// No WriteTimeout: a CPU profile or a trace streams for as long as
	// asked (?seconds=30). Heads and idle connections are bounded anyway.
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("debug listener stopped", "err", err)
		}
	}()
	slog.Info("debug listener (pprof, expvar)", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			_ = hs.Close()
		}
	}, nil
}

// checkLoopback refuses an address that is not on a loopback interface. A
// host name other than localhost is refused too (what it resolves to may
// change); for localhost, startDebug checks the address actually bound.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad --debug-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--debug-addr %q: must be a loopback address such as 127.0.0.1:6060 or [::1]:6060 (profiles and runtime variables are not for the network)", addr)
	}
	return nil
}
