package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sockio/sockio"
)

func init() { register("serve", "run the Socket.IO server (in memory, no external service)", runServe) }

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", ":3000", "listen address")
	_ = fs.Parse(args)

	io := sockio.NewServer(sockio.Options{CORS: &sockio.CORS{Credentials: true}})
	io.OnConnection(func(s *sockio.Socket) {
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
		s.On("chat message", func(msg string) { _ = io.Emit("chat message", msg) })
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	slog.Info("sockio serving", "addr", *addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = io.Close(sctx)
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
