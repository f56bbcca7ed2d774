package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParseServe(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		adapter  string
		recovery time.Duration
		prefix   string
	}{
		{nil, adapterMemory, defaultRecovery, ""},
		{[]string{"--recovery", "0"}, adapterMemory, 0, ""},
		{[]string{"--recovery", "30s"}, adapterMemory, 30 * time.Second, ""},
		// --redis alone keeps meaning the Pub/Sub cluster.
		{[]string{"--redis", "redis://127.0.0.1:6379/0"}, adapterRedis, defaultRecovery, ""},
		{[]string{"--adapter", "redis-streams", "--redis", "redis://r:6379", "--cluster-prefix", "chat_1"}, adapterRedisStreams, defaultRecovery, "chat_1"},
		{[]string{"--nats", "nats://127.0.0.1:4222"}, adapterNATS, defaultRecovery, ""},
		// NATS for the cluster, Redis for the shared history.
		{[]string{"--adapter", "nats", "--nats", "nats://n:4222", "--redis", "redis://r:6379"}, adapterNATS, defaultRecovery, ""},
		{[]string{"--adapter", "memory", "--redis", "redis://r:6379"}, adapterMemory, defaultRecovery, ""},
	} {
		cfg, err := parseServe(tc.args, io.Discard)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if cfg.adapter != tc.adapter || cfg.recovery != tc.recovery || cfg.prefix != tc.prefix {
			t.Errorf("%q: adapter %q recovery %s prefix %q, want %q %s %q", tc.args, cfg.adapter, cfg.recovery, cfg.prefix, tc.adapter, tc.recovery, tc.prefix)
		}
	}
}

// Every bad value fails at start, with a message that names the flag.
func TestParseServeErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--adapter", "kafka"}, "--adapter"},
		{[]string{"--adapter", "Redis", "--redis", "redis://r"}, "--adapter"},
		{[]string{"--adapter", "redis"}, "--redis"},
		{[]string{"--adapter", "redis-streams"}, "--redis"},
		{[]string{"--adapter", "nats"}, "--nats"},
		{[]string{"--adapter", "redis-streams", "--redis", "redis://r", "--nats", "nats://n"}, "--nats"},
		{[]string{"--adapter", "memory", "--nats", "nats://n"}, "--nats"},
		{[]string{"--recovery", "-1s"}, "recovery"},
		{[]string{"--recovery", "two minutes"}, "recovery"},
		{[]string{"--cluster-prefix", "a.b"}, "--cluster-prefix"},
		{[]string{"--cluster-prefix", "a*"}, "--cluster-prefix"},
		{[]string{"--cluster-prefix", strings.Repeat("x", 65)}, "--cluster-prefix"},
		{[]string{"--trusted-proxies", "10.0.0.0/33"}, "--trusted-proxies"},
		{[]string{"--adresse", ":80"}, "adresse"},
		{[]string{"extra"}, "extra"},
	} {
		_, err := parseServe(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}

// A broker URL that cannot be used fails at start, naming its flag; Redis
// connects lazily, so only a malformed --redis is caught there.
func TestOpenClusterErrors(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		cfg  serveConfig
		want string
	}{
		{serveConfig{adapter: adapterRedisStreams, redisURL: "http://127.0.0.1:6379"}, "--redis"},
		// Port 1 on loopback: refused at once.
		{serveConfig{adapter: adapterNATS, natsURL: "nats://127.0.0.1:1"}, "--nats"},
	} {
		c, err := openCluster(tc.cfg, quiet)
		if err == nil {
			_ = c.close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.cfg, err, tc.want)
		}
	}
}

// Each mode builds its adapter (and, given Redis, the shared history)
// without touching the network until the server uses it.
func TestOpenClusterModes(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, cfg := range []serveConfig{
		{adapter: adapterMemory},
		{adapter: adapterMemory, redisURL: "redis://127.0.0.1:6379"},
		{adapter: adapterRedis, redisURL: "redis://127.0.0.1:6379", prefix: "p"},
		{adapter: adapterRedisStreams, redisURL: "redis://127.0.0.1:6379", prefix: "p", recovery: time.Minute},
	} {
		c, err := openCluster(cfg, quiet)
		if err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		if (c.adapter == nil) != (cfg.adapter == adapterMemory) {
			t.Errorf("%+v: adapter %v", cfg, c.adapter != nil)
		}
		if (c.history == nil) != (cfg.redisURL == "") {
			t.Errorf("%+v: history %v", cfg, c.history != nil)
		}
		if err := c.close(); err != nil {
			t.Errorf("%+v: close: %v", cfg, err)
		}
	}
}
