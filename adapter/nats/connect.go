package nats

import (
	"fmt"
	"log/slog"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// DefaultReconnectBufSize bounds what a node queues while it reconnects;
// past it core publishes fail (counted in Stats.NotPublished).
const DefaultReconnectBufSize = 8 << 20

// ConnectOptions are nats.go options suited to a cluster node: reconnect
// forever (a node without its broker is deaf, never done), a bounded
// reconnect buffer, short waits with jitter, and connection errors logged
// to logger (slog.Default() when nil). Options after them override them.
func ConnectOptions(logger *slog.Logger) []natsgo.Option {
	if logger == nil {
		logger = slog.Default()
	}
	return []natsgo.Option{
		natsgo.Name("sockio"),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(250 * time.Millisecond),
		natsgo.ReconnectJitter(250*time.Millisecond, time.Second),
		natsgo.ReconnectBufSize(DefaultReconnectBufSize),
		natsgo.RetryOnFailedConnect(false),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			logger.Warn("nats adapter: connection error", "subject", subject, "err", err)
		}),
	}
}

// Connect connects to url (nats.DefaultURL when empty) with ConnectOptions
// followed by extra.
func Connect(url string, logger *slog.Logger, extra ...natsgo.Option) (*natsgo.Conn, error) {
	if url == "" {
		url = natsgo.DefaultURL
	}
	nc, err := natsgo.Connect(url, append(ConnectOptions(logger), extra...)...)
	if err != nil {
		return nil, fmt.Errorf("nats adapter: connect to %s: %w", url, err)
	}
	return nc, nil
}
