package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	natsadapter "github.com/sockio/sockio/adapter/nats"
	redisadapter "github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/adapter/redisstreams"
)

// clusterFlags make goserver a node of a cluster, for bench/cluster.sh:
// the same contract, with one of sockio's adapters and, optionally,
// connection-state recovery.
type clusterFlags struct {
	adapter     string
	redisURL    string
	natsURL     string
	key         string
	recovery    time.Duration
	maxLen      int64
	jsMaxMsgs   int64
	cleanup     bool
	maxBuffered int
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.adapter, "adapter", "memory", "memory, redis, redis-sharded, redis-streams or nats")
	fs.StringVar(&c.redisURL, "redis", "redis://127.0.0.1:6379", "Redis URL (redis adapters)")
	fs.StringVar(&c.natsURL, "nats", "nats://127.0.0.1:4222", "NATS URL (nats adapter)")
	fs.StringVar(&c.key, "key", "sockio-bench", "channel prefix, stream name and session key prefix: one per run, so that runs never meet on a shared broker")
	fs.DurationVar(&c.recovery, "recovery", 0, "connection-state recovery window (0: off)")
	fs.Int64Var(&c.maxLen, "stream-maxlen", 0, "redis-streams: MAXLEN of the stream (0: the adapter's default, 10000)")
	fs.Int64Var(&c.jsMaxMsgs, "js-max-msgs", 0, "nats with recovery: the stream's MaxMsgs (0: the adapter's default)")
	fs.IntVar(&c.maxBuffered, "max-buffered-packets", 0, "a connection's send queue bound in packets (0: sockio's default, 8192); a recovery replays every missed event into it at once")
	fs.BoolVar(&c.cleanup, "cleanup", false, "on exit, delete what this run left in the broker under -key")
}

// node is what the cluster flags built: the server options, a handler of
// GET /debug/broker, and what to do on exit.
type node struct {
	opts    sockio.Options
	stats   http.HandlerFunc // nil: nothing to report
	closers []func() error
}

func (n *node) close() error {
	var errs []error
	for i := len(n.closers) - 1; i >= 0; i-- {
		errs = append(errs, n.closers[i]())
	}
	return errors.Join(errs...)
}

func (c *clusterFlags) build() (*node, error) {
	n := &node{opts: sockio.Options{MaxBufferedPackets: c.maxBuffered}}
	if c.recovery > 0 {
		n.opts.ConnectionStateRecovery = &sockio.RecoveryOptions{MaxDisconnectionDuration: c.recovery}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var rdb *goredis.Client
	switch c.adapter {
	case "memory":
		return n, nil
	case "redis", "redis-sharded", "redis-streams":
		ro, err := goredis.ParseURL(c.redisURL)
		if err != nil {
			return nil, fmt.Errorf("bad -redis: %w", err)
		}
		rdb = goredis.NewClient(ro)
		n.closers = append(n.closers, rdb.Close)
	case "nats":
	default:
		return nil, fmt.Errorf("unknown -adapter %q", c.adapter)
	}
	switch c.adapter {
	case "redis", "redis-sharded":
		n.opts.Adapter = redisadapter.NewAdapter(rdb, redisadapter.Options{Key: c.key, Sharded: c.adapter == "redis-sharded", Logger: logger})
	case "redis-streams":
		n.opts.Adapter = redisstreams.NewAdapter(rdb, redisstreams.Options{StreamName: c.key, ChannelPrefix: c.key,
			SessionKeyPrefix: c.key + ":session:", MaxLen: c.maxLen, Logger: logger})
		if c.cleanup {
			n.closers = append(n.closers, func() error { return redisCleanup(rdb, c.key) })
		}
	case "nats":
		nc, err := natsadapter.Connect(c.natsURL, logger)
		if err != nil {
			return nil, err
		}
		n.closers = append(n.closers, func() error { nc.Close(); return nil })
		opts := natsadapter.Options{Prefix: c.key, StreamName: c.key, Logger: logger}
		if c.recovery > 0 {
			// 1.5 times the server's window, as docs/scaling.md advises:
			// the bucket's TTL must outlive a killed node's sessions.
			opts.Recovery = natsadapter.Recovery{Window: c.recovery * 3 / 2, MaxMsgs: c.jsMaxMsgs}
			js, err := jetstream.New(nc)
			if err != nil {
				return nil, fmt.Errorf("failed to open JetStream: %w", err)
			}
			n.stats = jetStreamStats(js, c.key)
			if c.cleanup {
				n.closers = append(n.closers, func() error { return jetStreamCleanup(js, c.key) })
			}
		}
		n.opts.Adapter = natsadapter.NewAdapter(nc, opts)
	}
	return n, nil
}

// jetStreamStats answers GET /debug/broker with the recovery stream's
// messages and bytes, for the bytes kept per event.
func jetStreamStats(js jetstream.JetStream, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		st, err := js.Stream(ctx, name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		info, err := st.Info(ctx)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"stream": name, "msgs": info.State.Msgs, "bytes": info.State.Bytes,
			"max_msgs": info.Config.MaxMsgs, "max_bytes": info.Config.MaxBytes, "max_age_s": info.Config.MaxAge.Seconds()})
	}
}

func jetStreamCleanup(js jetstream.JetStream, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, s := range []string{name, "KV_" + name + "_sessions"} {
		if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("failed to delete stream %s: %w", s, err))
		}
	}
	return errors.Join(errs...)
}

// redisCleanup deletes the stream and the session keys under key.
func redisCleanup(rdb *goredis.Client, key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys := []string{key}
	iter := rdb.Scan(ctx, 0, key+":session:*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("failed to list the session keys: %w", err)
	}
	if err := rdb.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("failed to delete the run's keys: %w", err)
	}
	return nil
}
