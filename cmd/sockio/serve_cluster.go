package main

import (
	"errors"
	"fmt"
	"log/slog"

	natsgo "github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
	natsadapter "github.com/sockio/sockio/adapter/nats"
	redisadapter "github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/adapter/redisstreams"
	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/chat/redishistory"
)

// servedCluster is what --adapter gives the server and the chat: the
// adapter (nil: in memory), the history (nil: in memory), and what to
// close once the server is closed.
type servedCluster struct {
	adapter sockio.AdapterFactory
	history chat.History
	// broker carries the directory of nodes that request forwarding needs
	// (cluster.Peers); nil in memory.
	broker cluster.Broker
	// statsSources are what --metrics reads besides the adapter of "/"
	// (the brokers' Stats).
	statsSources []any
	closers      []func() error
}

func (c *servedCluster) close() error {
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		errs = append(errs, c.closers[i]())
	}
	return errors.Join(errs...)
}

// openCluster connects to the brokers cfg names. Redis connects lazily
// (the client dials on first use, and reconnects by itself); NATS
// connects now, so an unreachable --nats fails at start.
func openCluster(cfg serveConfig, logger *slog.Logger) (*servedCluster, error) {
	c := &servedCluster{}
	var rdb *goredis.Client
	if cfg.redisURL != "" {
		ro, err := goredis.ParseURL(cfg.redisURL)
		if err != nil {
			return nil, fmt.Errorf("bad --redis: %w", err)
		}
		rdb = goredis.NewClient(ro)
		c.closers = append(c.closers, rdb.Close)
		hopts := redishistory.Options{}
		if cfg.prefix != "" {
			hopts.Prefix = cfg.prefix + "-chat"
		}
		// The history is shared whatever the adapter: a node that joins
		// replays what the others were told.
		c.history = redishistory.New(rdb, hopts)
	}
	switch cfg.adapter {
	case adapterRedis:
		c.adapter = redisadapter.NewAdapter(rdb, redisadapter.Options{Key: cfg.prefix, Logger: logger})
		// The classic protocol has no heartbeats to carry the directory:
		// it rides the sharded channels (Redis 7) beside it.
		c.broker = redisadapter.NewBroker(rdb, redisadapter.Options{Key: cfg.prefix, Logger: logger})
		logger.Info("clustering through Redis Pub/Sub", "redis", rdb.Options().Addr, "recovery", "per node")
	case adapterRedisStreams:
		opts := redisstreams.Options{Logger: logger}
		if cfg.prefix != "" {
			opts.StreamName = cfg.prefix
			opts.ChannelPrefix = cfg.prefix
			opts.SessionKeyPrefix = cfg.prefix + ":session:"
		}
		// One broker, one reader of the stream, for the adapter and the
		// directory of nodes.
		b := redisstreams.NewBroker(rdb, opts)
		c.closers = append(c.closers, b.Close)
		c.broker = b
		c.statsSources = append(c.statsSources, b)
		c.adapter = cluster.NewAdapter(b, cluster.Options{Logger: logger})
		logger.Info("clustering through Redis Streams", "redis", rdb.Options().Addr, "recovery", recoveryMode(cfg, "across nodes"))
	case adapterNATS:
		nc, err := natsadapter.Connect(cfg.natsURL, logger)
		if err != nil {
			_ = c.close()
			return nil, fmt.Errorf("--nats: %w", err)
		}
		c.closers = append(c.closers, func() error { nc.Close(); return nil })
		opts := natsadapter.Options{Logger: logger, Recovery: natsadapter.Recovery{Window: cfg.recovery}}
		if cfg.prefix != "" {
			opts.Prefix = cfg.prefix
			opts.StreamName = cfg.prefix
		}
		b := natsadapter.NewBroker(nc, opts)
		c.closers = append(c.closers, b.(interface{ Close() error }).Close)
		c.broker = b
		c.statsSources = append(c.statsSources, b)
		c.adapter = cluster.NewAdapter(b, cluster.Options{Logger: logger})
		where := "in each node's memory"
		if rdb != nil {
			where = "in Redis"
		}
		logger.Info("clustering through NATS", "nats", natsURLShown(nc), "recovery", recoveryMode(cfg, "across nodes (JetStream)"), "history", where)
	}
	return c, nil
}

func recoveryMode(cfg serveConfig, on string) string {
	if cfg.recovery == 0 {
		return "off"
	}
	return on
}

// natsURLShown is the server connected to, without credentials.
func natsURLShown(nc *natsgo.Conn) string {
	if u := nc.ConnectedUrlRedacted(); u != "" {
		return u
	}
	return "?"
}
