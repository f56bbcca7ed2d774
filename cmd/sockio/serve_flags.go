package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"regexp"
	"time"
)

// The cluster modes of `sockio serve --adapter`.
const (
	adapterMemory       = "memory"
	adapterRedis        = "redis"
	adapterRedisStreams = "redis-streams"
	adapterNATS         = "nats"
)

// defaultRecovery is the chat's connection-state recovery window: long
// enough for a phone that goes through a tunnel or a node that restarts.
const defaultRecovery = 2 * time.Minute

// serveConfig is `sockio serve` once its flags are read and checked.
type serveConfig struct {
	addr      string
	adapter   string // one of the adapter* modes
	redisURL  string
	natsURL   string
	prefix    string        // --cluster-prefix: "" for each adapter's default names
	recovery  time.Duration // 0: off
	origins   string
	proxies   []netip.Prefix
	debugAddr string

	forwarding      bool          // --forwarding: serve other nodes' sessions (clustered only)
	advertise       string        // --advertise: this node's URL for the others; "" derives it
	drainDelay      time.Duration // --drain-delay: not ready, still serving, before the hand-off
	shutdownTimeout time.Duration // --shutdown-timeout: the hand-off's deadline
}

const serveAdapterHelp = `how nodes share broadcasts, rooms and requests:
  memory         one process, nothing shared (default; --redis alone: redis,
                 --nats alone: nats)
  redis          Redis Pub/Sub, wire-compatible with @socket.io/redis-adapter;
                 recovery stays per node: a client recovers on the node it left
  redis-streams  Redis Streams, wire-compatible with @socket.io/redis-streams-adapter;
                 recovery across nodes: a client whose node died recovers on any other
  nats           core NATS, with JetStream as the recovery log when --recovery is on;
                 recovery across nodes; the chat history stays in each node's memory
                 unless --redis is given too`

// prefixPattern keeps --cluster-prefix valid as a Redis key and channel
// part, a NATS subject token and a JetStream stream name alike.
var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// parseServe reads the flags of `sockio serve`. Every bad value is an
// error that names its flag, so a typo fails at start, not at the first
// connection.
func parseServe(args []string, output io.Writer) (serveConfig, error) {
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&cfg.addr, "addr", ":3000", "listen address")
	fs.StringVar(&cfg.adapter, "adapter", "", serveAdapterHelp)
	fs.StringVar(&cfg.redisURL, "redis", "", "Redis URL (redis://host:6379/0) of the redis and redis-streams adapters; the chat history is kept there too, shared by the nodes")
	fs.StringVar(&cfg.natsURL, "nats", "", "NATS URL (nats://host:4222) of the nats adapter; alone, it selects --adapter nats")
	fs.StringVar(&cfg.prefix, "cluster-prefix", "", `names the cluster's channels, streams, subjects and history keys (letters, digits, "_" and "-"): nodes with the same prefix form one cluster; default: each adapter's own (compatible with Node.js nodes)`)
	fs.DurationVar(&cfg.recovery, "recovery", defaultRecovery, "connection-state recovery: a client that lost its connection and comes back within this time gets its id, name, room and every message it missed; 0 turns it off")
	fs.StringVar(&cfg.origins, "origins", "", `browser origins allowed besides the chat's own, comma-separated ("https://a.example,*.b.example"); "*" for any`)
	proxies := fs.String("trusted-proxies", "", `reverse proxies (CIDR prefixes, comma-separated: "10.0.0.0/8") whose X-Forwarded-For names the client for the chat's per-address limits; none by default`)
	fs.StringVar(&cfg.debugAddr, "debug-addr", "", "serve pprof and expvar on this loopback address (127.0.0.1:6060); off when empty")
	fs.BoolVar(&cfg.forwarding, "forwarding", true, "in a cluster, serve requests for sessions another node holds by passing them to it: no sticky sessions needed at the load balancer")
	fs.StringVar(&cfg.advertise, "advertise", "", "the URL at which the other nodes reach this one (http://10.0.0.7:3000), for --forwarding; default: the listen address, or this host's first non-loopback address when it listens on all")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", 0, "on SIGTERM, how long the node reports not ready on /readyz (and takes no new sessions) before it hands its clients off: give the balancer time to notice")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 25*time.Second, "on SIGTERM, the deadline of the hand-off of the clients to the other nodes, after --drain-delay")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	var err error
	if cfg.proxies, err = prefixList(*proxies); err != nil {
		return cfg, fmt.Errorf("bad --trusted-proxies: %w", err)
	}
	if cfg.advertise != "" {
		if u, err := url.Parse(cfg.advertise); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return cfg, fmt.Errorf("bad --advertise %q: want http://host:port", cfg.advertise)
		}
	}
	if cfg.drainDelay < 0 || cfg.shutdownTimeout <= 0 {
		return cfg, errors.New("bad --drain-delay or --shutdown-timeout: --drain-delay 0 or more, --shutdown-timeout more than 0")
	}
	if cfg.recovery < 0 {
		return cfg, fmt.Errorf("bad --recovery %s: a duration of 0 (off) or more", cfg.recovery)
	}
	if cfg.prefix != "" && !prefixPattern.MatchString(cfg.prefix) {
		return cfg, fmt.Errorf("bad --cluster-prefix %q: 1 to 64 letters, digits, \"_\" or \"-\"", cfg.prefix)
	}
	if cfg.adapter == "" {
		// --redis alone has meant the Redis Pub/Sub cluster since before
		// --adapter existed.
		switch {
		case cfg.redisURL != "":
			cfg.adapter = adapterRedis
		case cfg.natsURL != "":
			cfg.adapter = adapterNATS
		default:
			cfg.adapter = adapterMemory
		}
	}
	switch cfg.adapter {
	case adapterMemory:
		if cfg.natsURL != "" {
			return cfg, errors.New("--nats needs --adapter nats")
		}
	case adapterRedis, adapterRedisStreams:
		if cfg.redisURL == "" {
			return cfg, fmt.Errorf("--adapter %s needs --redis URL", cfg.adapter)
		}
		if cfg.natsURL != "" {
			return cfg, fmt.Errorf("--nats needs --adapter nats, not %s", cfg.adapter)
		}
	case adapterNATS:
		if cfg.natsURL == "" {
			return cfg, errors.New("--adapter nats needs --nats URL")
		}
	default:
		return cfg, fmt.Errorf("bad --adapter %q: memory, redis, redis-streams or nats", cfg.adapter)
	}
	return cfg, nil
}
