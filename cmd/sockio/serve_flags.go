package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sockio/sockio/engineio"
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

	tls          *tls.Config // --tls-cert and --tls-key, loaded; nil: plain HTTP
	path         string      // --path, ending in "/"
	pingInterval time.Duration
	pingTimeout  time.Duration
	maxBuffer    int64    // --max-http-buffer-size
	transports   []string // --transports, in order
	metricsAddr  string   // --metrics: "" for none
	logLevel     slog.Level
	logJSON      bool
	allowEIO3    bool        // --allow-eio3: serve socket.io-client 2.x too
	admin        adminConfig // --admin, --admin-read-only, --admin-ui (serve_admin.go)
	webtransport string      // --webtransport: UDP address, "" for none (serve_webtransport.go)

	// warnings are worth a log line at start, not a refusal (an unknown
	// SOCKIO_ variable, say).
	warnings []string
}

// envPrefix names the environment variable of each flag: SOCKIO_ and the
// flag's name in capitals, "-" as "_" (--cluster-prefix: SOCKIO_CLUSTER_PREFIX).
const envPrefix = "SOCKIO_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
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

// parseServe reads the flags of `sockio serve`, and for each flag not
// given its environment variable (envName). Every bad value is an error
// that names its flag, and its variable when it came from there, so a typo
// fails at start, not at the first connection.
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
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM, the chain after the leaf): serve HTTPS and WSS; needs --tls-key")
	tlsKey := fs.String("tls-key", "", "TLS private key file (PEM) of --tls-cert")
	fs.StringVar(&cfg.path, "path", "/socket.io/", "where Socket.IO answers (the clients' path option); the chat pages use /socket.io/")
	fs.DurationVar(&cfg.pingInterval, "ping-interval", 25*time.Second, "how often the server pings each client (Engine.IO pingInterval)")
	fs.DurationVar(&cfg.pingTimeout, "ping-timeout", 20*time.Second, "how long a ping waits for its pong before the connection is dropped (pingTimeout)")
	fs.Int64Var(&cfg.maxBuffer, "max-http-buffer-size", 1_000_000, "largest message, and largest polling request body, a client may send, in bytes (maxHttpBufferSize)")
	transports := fs.String("transports", "polling,websocket", `transports offered, comma-separated: "polling", "websocket" or both (a polling client then upgrades)`)
	fs.StringVar(&cfg.metricsAddr, "metrics", "", "serve Prometheus metrics at /metrics on this address (:9100), a listener of its own; off when empty")
	logLevel := fs.String("log-level", "info", "least severe log level written: debug, info, warn or error")
	fs.BoolVar(&cfg.logJSON, "log-json", false, "write logs as JSON lines (log/slog's JSONHandler) instead of text")
	fs.BoolVar(&cfg.allowEIO3, "allow-eio3", false, "also serve Socket.IO v2 clients (socket.io-client 2.x, Engine.IO 3), as the reference's allowEIO3; their chat name comes from the query (?name=ann&room=lobby)")
	adminFlags := registerAdminFlags(fs)
	webTransport := registerWebTransportFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += " [$" + envName(f.Name) + "]"
	})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sockio serve [flags]\n\n"+
			"Each flag can also be set by the environment variable in brackets;\n"+
			"a flag given on the command line wins over its variable.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	// The variables of the flags not given: the command line wins.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fromEnv := map[string]bool{}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || given[f.Name] || envErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = fmt.Errorf("bad $%s (--%s) %q: %w", envName(f.Name), f.Name, v, err)
			return
		}
		fromEnv[f.Name] = true
	})
	if envErr != nil {
		return cfg, envErr
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || strings.HasPrefix(name, envPrefix+"TEST_") {
			continue
		}
		if fs.Lookup(strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, envPrefix), "_", "-"))) == nil {
			cfg.warnings = append(cfg.warnings, "$"+name+" is set but names no flag of sockio serve: ignored")
		}
	}
	// flagRef names a flag in an error, with the variable it came from.
	flagRef := func(name string) string {
		if fromEnv[name] {
			return "--" + name + " ($" + envName(name) + ")"
		}
		return "--" + name
	}
	var err error
	if cfg.proxies, err = prefixList(*proxies); err != nil {
		return cfg, fmt.Errorf("bad %s: %w", flagRef("trusted-proxies"), err)
	}
	if cfg.advertise != "" {
		if u, err := url.Parse(cfg.advertise); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return cfg, fmt.Errorf("bad %s %q: want http://host:port", flagRef("advertise"), cfg.advertise)
		}
	}
	if cfg.drainDelay < 0 {
		return cfg, fmt.Errorf("bad %s %s: 0 or more", flagRef("drain-delay"), cfg.drainDelay)
	}
	if cfg.shutdownTimeout <= 0 {
		return cfg, fmt.Errorf("bad %s %s: more than 0", flagRef("shutdown-timeout"), cfg.shutdownTimeout)
	}
	if cfg.recovery < 0 {
		return cfg, fmt.Errorf("bad %s %s: a duration of 0 (off) or more", flagRef("recovery"), cfg.recovery)
	}
	if cfg.prefix != "" && !prefixPattern.MatchString(cfg.prefix) {
		return cfg, fmt.Errorf("bad %s %q: 1 to 64 letters, digits, \"_\" or \"-\"", flagRef("cluster-prefix"), cfg.prefix)
	}
	for _, a := range []struct {
		name string
		addr string
	}{{"addr", cfg.addr}, {"metrics", cfg.metricsAddr}, {"debug-addr", cfg.debugAddr}} {
		if a.addr == "" && a.name != "addr" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.addr); err != nil {
			return cfg, fmt.Errorf("bad %s %q: want host:port or :port", flagRef(a.name), a.addr)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return cfg, fmt.Errorf("bad %s %q: the port must be a number up to 65535", flagRef(a.name), a.addr)
		}
	}
	if _, port, _ := net.SplitHostPort(cfg.addr); cfg.metricsAddr == cfg.addr && port != "0" {
		return cfg, fmt.Errorf("bad %s %q: the metrics need a listener of their own, not --addr's", flagRef("metrics"), cfg.metricsAddr)
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return cfg, fmt.Errorf("%s and %s go together: give both or neither", flagRef("tls-cert"), flagRef("tls-key"))
	}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return cfg, fmt.Errorf("bad %s or %s: %w", flagRef("tls-cert"), flagRef("tls-key"), err)
		}
		cfg.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.path, err = checkPath(cfg.path); err != nil {
		return cfg, fmt.Errorf("bad %s %q: %w", flagRef("path"), cfg.path, err)
	}
	if cfg.pingInterval <= 0 {
		return cfg, fmt.Errorf("bad %s %s: more than 0", flagRef("ping-interval"), cfg.pingInterval)
	}
	if cfg.pingTimeout <= 0 {
		return cfg, fmt.Errorf("bad %s %s: more than 0", flagRef("ping-timeout"), cfg.pingTimeout)
	}
	if cfg.maxBuffer <= 0 {
		return cfg, fmt.Errorf("bad %s %d: a number of bytes, more than 0", flagRef("max-http-buffer-size"), cfg.maxBuffer)
	}
	if cfg.admin, err = adminFlags.check(flagRef); err != nil {
		return cfg, err
	}
	cfg.webtransport = *webTransport
	if err := checkWebTransportAddr(cfg.webtransport, flagRef); err != nil {
		return cfg, err
	}
	if cfg.transports, err = transportList(*transports); err != nil {
		return cfg, fmt.Errorf("bad %s %q: %w", flagRef("transports"), *transports, err)
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, fmt.Errorf("bad %s %q: debug, info, warn or error", flagRef("log-level"), *logLevel)
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
			return cfg, fmt.Errorf("%s needs --adapter nats", flagRef("nats"))
		}
	case adapterRedis, adapterRedisStreams:
		if cfg.redisURL == "" {
			return cfg, fmt.Errorf("%s %s needs --redis URL", flagRef("adapter"), cfg.adapter)
		}
		if cfg.natsURL != "" {
			return cfg, fmt.Errorf("%s needs --adapter nats, not %s", flagRef("nats"), cfg.adapter)
		}
	case adapterNATS:
		if cfg.natsURL == "" {
			return cfg, fmt.Errorf("%s nats needs --nats URL", flagRef("adapter"))
		}
	default:
		return cfg, fmt.Errorf("bad %s %q: memory, redis, redis-streams or nats", flagRef("adapter"), cfg.adapter)
	}
	return cfg, nil
}

// checkPath checks --path and gives it its final "/": a path of the
// server's mux, apart from the chat's own.
func checkPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") || p == "/" {
		return p, errors.New(`want a path below "/", such as /socket.io/`)
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	if strings.ContainsAny(p, "{}?# \t\n%") || strings.Contains(p, "//") {
		return p, errors.New(`letters, digits and "/-._~" only`)
	}
	for _, taken := range []string{"/ws/", "/healthz/", "/readyz/"} {
		if p == taken {
			return p, fmt.Errorf("%s is taken by the chat or the health checks", strings.TrimSuffix(taken, "/"))
		}
	}
	return p, nil
}

// transportList parses --transports.
func transportList(arg string) ([]string, error) {
	var list []string
	for _, t := range strings.Split(arg, ",") {
		t = strings.TrimSpace(t)
		if t != engineio.Polling && t != engineio.WebSocket {
			return nil, errors.New(`"polling", "websocket" or both, comma-separated`)
		}
		if slices.Contains(list, t) {
			return nil, fmt.Errorf("%s twice", t)
		}
		list = append(list, t)
	}
	return list, nil
}
