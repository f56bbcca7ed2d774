package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// runUntilSignal runs serve until it fails or SIGINT/SIGTERM arrives, then
// calls shutdown, bounded by grace. The error serve returns because of the
// shutdown (closed) is not one.
func runUntilSignal(serve func() error, shutdown func(context.Context) error, grace time.Duration, closed error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, closed) {
		return err
	}
	return nil
}
