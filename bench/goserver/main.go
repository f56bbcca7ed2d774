// Command goserver implements bench/contract.md on sockio, for
// bench/compare.sh. It uses raw handlers (func(*sockio.Event)) and sends
// e.Args back unchanged: sockio's fastest path, as a tuned app would.
// With -adapter it is a node of a cluster (redis, redis-sharded,
// redis-streams, nats), for bench/cluster.sh; -recovery turns on
// connection-state recovery.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/sockio/sockio"
)

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0 = any free port)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this 127.0.0.1 address, for profiling under load")
	var cf clusterFlags
	cf.register(flag.CommandLine)
	flag.Parse()
	if err := run(*port, *pprofAddr, &cf); err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(1)
	}
}

func run(port int, pprofAddr string, cf *clusterFlags) error {
	nd, err := cf.build()
	if err != nil {
		return err
	}
	defer func() {
		if err := nd.close(); err != nil {
			fmt.Fprintln(os.Stderr, "goserver:", err)
		}
	}()
	io := sockio.NewServer(nd.opts)
	io.OnConnection(func(s *sockio.Socket) { contract(io, s) })

	// No TCP keep-alive, as Node.js's createServer by default: Engine.IO's
	// heartbeat finds dead peers, and keep-alive costs three setsockopt
	// calls per accepted connection.
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	// GET /debug/gc collects garbage and returns it to the OS, so the bench
	// can read the RSS of live memory (the Node server has the same). It
	// answers with the Go memory split, to tell heap from stacks.
	mux.HandleFunc("/debug/gc", func(w http.ResponseWriter, _ *http.Request) {
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]uint64{
			"heap_inuse": ms.HeapInuse, "stack_inuse": ms.StackInuse, "sys": ms.Sys,
			"goroutines": uint64(runtime.NumGoroutine()),
		})
	})
	if nd.stats != nil {
		mux.HandleFunc("/debug/broker", nd.stats)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening on %s\n", ln.Addr())
	// sockio.Serve: upgrades skip net/http's per-connection state.
	go func() { _ = sockio.Serve(ln, hs) }()
	if pprofAddr != "" {
		if err := servePprof(pprofAddr); err != nil {
			return err
		}
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = io.Close(ctx)
	_ = hs.Shutdown(ctx)
	return nil
}

// contract registers the events of bench/contract.md.
func contract(io *sockio.Server, s *sockio.Socket) {
	s.On("echo", func(e *sockio.Event) {
		if e.WantsAck() {
			_ = e.Ack(e.Args)
			return
		}
		_ = s.Emit("echo", e.Args)
	})
	s.On("broadcast", func(e *sockio.Event) {
		_ = io.Emit("broadcast", e.Args)
		_ = e.Ack()
	})
	s.On("join", func(e *sockio.Event) {
		var room string
		if err := e.Args.Decode(0, &room); err == nil {
			s.Join(room)
		}
		_ = e.Ack()
	})
	s.On("broadcast_room", func(e *sockio.Event) {
		var room string
		if err := e.Args.Decode(0, &room); err != nil {
			return
		}
		// The arguments after the room, as the client wrote them.
		rest := make([]any, 0, e.Args.Len()-1)
		for i := 1; i < e.Args.Len(); i++ {
			rest = append(rest, e.Args.Raw(i))
		}
		_ = io.To(room).Emit("broadcast", rest...)
		_ = e.Ack()
	})
}

// servePprof exposes the profiles on a loopback address of its own, so the
// measured server's mux stays as an app would have it.
func servePprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-pprof %q: loopback addresses only", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen for pprof: %w", err)
	}
	// After the "listening on" line, which scripts read first.
	fmt.Printf("pprof on %s\n", ln.Addr())
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}
