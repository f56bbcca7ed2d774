package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
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

// Every flag has its variable: set alone, the variable gives the value;
// with the flag, the flag wins.
func TestParseServeEnv(t *testing.T) {
	t.Setenv("SOCKIO_ADDR", ":4000")
	t.Setenv("SOCKIO_ADAPTER", "redis-streams")
	t.Setenv("SOCKIO_REDIS", "redis://127.0.0.1:6379/2")
	t.Setenv("SOCKIO_CLUSTER_PREFIX", "blue")
	t.Setenv("SOCKIO_RECOVERY", "30s")
	t.Setenv("SOCKIO_FORWARDING", "false")
	t.Setenv("SOCKIO_PATH", "/rt")
	t.Setenv("SOCKIO_TRANSPORTS", "websocket")
	t.Setenv("SOCKIO_PING_INTERVAL", "10s")
	t.Setenv("SOCKIO_PING_TIMEOUT", "5s")
	t.Setenv("SOCKIO_MAX_HTTP_BUFFER_SIZE", "2048")
	t.Setenv("SOCKIO_METRICS", "127.0.0.1:9100")
	t.Setenv("SOCKIO_LOG_LEVEL", "debug")
	t.Setenv("SOCKIO_LOG_JSON", "true")
	t.Setenv("SOCKIO_DRAIN_DELAY", "3s")
	cfg, err := parseServe([]string{"--addr", ":5000", "--ping-timeout", "7s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %s %s %s %s %v %s %v %s %s %d %s %s %v %s",
		cfg.addr, cfg.adapter, cfg.redisURL, cfg.prefix, cfg.recovery, cfg.forwarding, cfg.path, cfg.transports,
		cfg.pingInterval, cfg.pingTimeout, cfg.maxBuffer, cfg.metricsAddr, cfg.logLevel, cfg.logJSON, cfg.drainDelay)
	want := ":5000 redis-streams redis://127.0.0.1:6379/2 blue 30s false /rt/ [websocket] 10s 7s 2048 127.0.0.1:9100 DEBUG true 3s"
	if got != want {
		t.Errorf("config\n got %s\nwant %s", got, want)
	}
	if len(cfg.warnings) != 0 {
		t.Errorf("warnings %q", cfg.warnings)
	}
}

// A bad variable fails at start, naming the variable and its flag.
func TestParseServeEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        []string
	}{
		{"SOCKIO_RECOVERY", "two minutes", []string{"$SOCKIO_RECOVERY", "--recovery"}},
		{"SOCKIO_FORWARDING", "maybe", []string{"$SOCKIO_FORWARDING", "--forwarding"}},
		{"SOCKIO_ADAPTER", "kafka", []string{"$SOCKIO_ADAPTER", "--adapter"}},
		{"SOCKIO_PATH", "rt", []string{"$SOCKIO_PATH", "--path"}},
		{"SOCKIO_TRANSPORTS", "ws", []string{"$SOCKIO_TRANSPORTS", "--transports"}},
		{"SOCKIO_MAX_HTTP_BUFFER_SIZE", "1MB", []string{"$SOCKIO_MAX_HTTP_BUFFER_SIZE", "--max-http-buffer-size"}},
		{"SOCKIO_LOG_LEVEL", "loud", []string{"$SOCKIO_LOG_LEVEL", "--log-level"}},
		{"SOCKIO_METRICS", "9100", []string{"$SOCKIO_METRICS", "--metrics"}},
		{"SOCKIO_TLS_CERT", "/nonexistent.pem", []string{"$SOCKIO_TLS_CERT", "--tls-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			_, err := parseServe(nil, io.Discard)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("%s=%q: error %v, want one naming %s", tc.name, tc.value, err, w)
				}
			}
		})
	}
}

// A variable of our prefix that no flag has is likely a typo: a warning.
func TestParseServeUnknownEnv(t *testing.T) {
	t.Setenv("SOCKIO_ADRESS", ":80")
	t.Setenv("SOCKIO_TEST_REDIS", "127.0.0.1:6379") // the tests' own, not serve's
	cfg, err := parseServe(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.warnings) != 1 || !strings.Contains(cfg.warnings[0], "SOCKIO_ADRESS") {
		t.Errorf("warnings %q", cfg.warnings)
	}
}

func TestParseServeNewFlagErrors(t *testing.T) {
	cert, key := writeCert(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", cert}, "--tls-key"},
		{[]string{"--tls-key", key}, "--tls-cert"},
		{[]string{"--tls-cert", key, "--tls-key", cert}, "--tls-cert"},
		{[]string{"--tls-cert", cert, "--tls-key", "/nonexistent"}, "--tls-key"},
		{[]string{"--path", "/"}, "--path"},
		{[]string{"--path", "/a b/"}, "--path"},
		{[]string{"--path", "/ws"}, "--path"},
		{[]string{"--path", "/{x}/"}, "--path"},
		{[]string{"--ping-interval", "0s"}, "--ping-interval"},
		{[]string{"--ping-timeout", "-1s"}, "--ping-timeout"},
		{[]string{"--max-http-buffer-size", "0"}, "--max-http-buffer-size"},
		{[]string{"--transports", ""}, "--transports"},
		{[]string{"--transports", "websocket,websocket"}, "--transports"},
		{[]string{"--transports", "polling,flash"}, "--transports"},
		{[]string{"--log-level", "verbose"}, "--log-level"},
		{[]string{"--metrics", "localhost"}, "--metrics"},
		{[]string{"--metrics", ":http"}, "--metrics"},
		{[]string{"--metrics", ":3000"}, "--metrics"}, // --addr's
		{[]string{"--addr", "3000"}, "--addr"},
		{[]string{"--drain-delay", "-1s"}, "--drain-delay"},
		{[]string{"--shutdown-timeout", "0s"}, "--shutdown-timeout"},
		{[]string{"--advertise", "10.0.0.7:3000"}, "--advertise"},
	} {
		_, err := parseServe(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
	cfg, err := parseServe([]string{"--tls-cert", cert, "--tls-key", key, "--path", "/rt", "--transports", " websocket , polling"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.tls == nil || len(cfg.tls.Certificates) != 1 || cfg.path != "/rt/" || !slices.Equal(cfg.transports, []string{"websocket", "polling"}) {
		t.Errorf("tls %v path %q transports %q", cfg.tls != nil, cfg.path, cfg.transports)
	}
}

// --help lists every flag with its variable.
func TestServeHelpListsVariables(t *testing.T) {
	var out strings.Builder
	if _, err := parseServe([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, name := range []string{
		"addr", "adapter", "redis", "nats", "cluster-prefix", "recovery", "origins", "trusted-proxies",
		"debug-addr", "forwarding", "advertise", "drain-delay", "shutdown-timeout", "tls-cert", "tls-key",
		"path", "ping-interval", "ping-timeout", "max-http-buffer-size", "transports", "metrics",
		"log-level", "log-json",
	} {
		if !strings.Contains(out.String(), "-"+name+" ") && !strings.Contains(out.String(), "-"+name+"\n") {
			t.Errorf("--help has no -%s", name)
		}
		if !strings.Contains(out.String(), "[$"+envName(name)+"]") {
			t.Errorf("--help has no $%s", envName(name))
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sockio test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
