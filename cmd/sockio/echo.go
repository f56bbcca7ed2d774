package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sockio/sockio/ws"
)

func init() {
	register("echo", "run a strict WebSocket echo server (conformance and load tests)", runEcho)
}

// runEcho serves every path of addr with a WebSocket echo: each text or
// binary message goes back as is. Text is read whole (so invalid UTF-8 is
// refused before anything is echoed); binary is streamed through, so a
// large message never sits whole in memory.
func runEcho(args []string) error {
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:9001", "listen address (port 0 picks a free one)")
	maxMsg := fs.Int64("max-message", 64<<20, "largest text message in bytes (close 1009 past it)")
	deflate := fs.Bool("deflate", false, "negotiate permessage-deflate")
	ping := fs.Duration("ping", 30*time.Second, "heartbeat ping interval (0 turns it off)")
	quiet := fs.Bool("quiet", false, "do not log connection errors")
	_ = fs.Parse(args)

	pingInterval := *ping
	if pingInterval == 0 {
		pingInterval = -1
	}
	srv := &ws.Server{
		CheckOrigin: func(*http.Request) bool { return true }, // an echo has nothing to protect
		ConnOptions: ws.ConnOptions{
			MaxMessageSize: *maxMsg,
			Compression:    *deflate,
			PingInterval:   pingInterval,
			// A peer may send a large message before reading its echo.
			MaxQueuedBytes: int(*maxMsg),
		},
		Handlers: ws.Handlers{
			OnText: func(c *ws.Conn, text []byte) { _ = c.SendText(text) },
			OnBinaryStream: func(c *ws.Conn, r io.Reader) {
				w, err := c.Writer(context.Background(), ws.Binary)
				if err != nil {
					return
				}
				_, _ = io.Copy(w, r)
				_ = w.Close()
			},
		},
	}
	if !*quiet {
		srv.OnError = func(c *ws.Conn, err error) {
			if c == nil {
				slog.Info("echo: handshake refused", "err", err)
				return
			}
			slog.Info("echo: connection error", "remote", c.RemoteAddr(), "err", err)
		}
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	// Tests read the bound address from this line.
	fmt.Printf("echo listening on ws://%s\n", l.Addr())

	return runUntilSignal(func() error { return srv.Serve(l) }, srv.Shutdown, 5*time.Second, ws.ErrServerClosed)
}
