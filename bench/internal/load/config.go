// Package load is the load generator behind sockio-bench: a small
// Engine.IO 4 / Socket.IO 5 client of its own (WebSocket and polling) and
// the scenarios connect, echo and broadcast, each bounded in count and
// time. It talks to loopback addresses only.
package load

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"time"
)

// Config is what every scenario needs.
type Config struct {
	// Addr is the server, host:port on 127.0.0.0/8.
	Addr string
	// Path is the Socket.IO path (default "/socket.io/").
	Path string
	// Target names the server in the results ("sockio", "node", ...).
	Target string
	// PID of the server, for its RSS and CPU time; 0 when unknown.
	PID int
	// OtherPIDs are more processes whose CPU time the broadcast scenarios
	// report under their label: a cluster's other node, its broker.
	OtherPIDs []NamedPID
	// Timeout bounds the whole scenario; it stops by itself when reached.
	Timeout time.Duration
	// DialTimeout bounds one connection's setup.
	DialTimeout time.Duration
	// Concurrency is the number of connection setups in flight.
	Concurrency int
	// ReadBuffer is each client connection's read buffer in bytes.
	ReadBuffer int
	// Progress receives live progress lines (a terminal); nil for none.
	Progress io.Writer
}

func (c *Config) withDefaults() (Config, error) {
	o := *c
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return o, fmt.Errorf("bad address %q: %w", o.Addr, err)
	}
	if !isLoopback4(host) {
		return o, fmt.Errorf("address %q: the bench only targets 127.0.0.0/8", o.Addr)
	}
	if o.Path == "" {
		o.Path = "/socket.io/"
	}
	if o.Target == "" {
		o.Target = "server"
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 128
	}
	if o.ReadBuffer <= 0 {
		o.ReadBuffer = 4096
	}
	return o, nil
}

// NamedPID is a process to measure, with the label of its figures.
type NamedPID struct {
	Label string
	PID   int
}

// checkLoopbackAddr refuses a host:port that is not on 127.0.0.0/8.
func checkLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad address %q: %w", addr, err)
	}
	if !isLoopback4(host) {
		return fmt.Errorf("address %q: the bench only targets 127.0.0.0/8", addr)
	}
	return nil
}

func isLoopback4(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.To4() != nil && ip.IsLoopback()
}

// checkLoopbackURL refuses any URL whose host is not on 127.0.0.0/8.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bad URL %q: %w", raw, err)
	}
	if !isLoopback4(u.Hostname()) {
		return fmt.Errorf("URL %q: the bench only targets 127.0.0.0/8", raw)
	}
	return nil
}
