// Command server is the server side of the sockio WebSocket library
// comparison. It serves the same endpoints with one of three libraries,
// chosen with -lib:
//
//	/echo       echo every text/binary message back (closed-loop echo test)
//	/sink       register the connection for /broadcast and discard input
//	/broadcast  ?seq=N&size=B: write one prepared message to every /sink conn,
//	            reply {"n":conns,"ns":nanoseconds until all writes completed}
//	/stats      ?gc=1 runs runtime.GC + debug.FreeOSMemory first; replies with
//	            VmRSS and Go runtime stats
//
// Each library is used the way its own README/examples do it, without
// compression. -profile=lowmem switches to the library's memory-saving knobs.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
)

var (
	conns      atomic.Int64 // currently open WebSocket connections (all endpoints)
	lowmem     bool
	strictUTF8 bool // -utf8=message or -utf8=stream
	streamUTF8 bool // -utf8=stream
	coderBG    bool
	writeWait  = 5 * time.Second
)

type lib interface {
	echo(w http.ResponseWriter, r *http.Request)
	sink(w http.ResponseWriter, r *http.Request)
	// broadcast writes payload to every sink connection and returns when
	// every write has completed.
	broadcast(payload []byte) int
}

func main() {
	name := flag.String("lib", "gorilla", "gorilla | gws | coder")
	addr := flag.String("addr", "127.0.0.1:9000", "listen address (loopback only)")
	profile := flag.String("profile", "default", "default | lowmem")
	flag.BoolVar(&coderBG, "coder-bg", false, "coder: use context.Background() (no cancel) per connection instead of a cancellable context")
	utf8Mode := flag.String("utf8", "off", "off | message | stream: reject invalid UTF-8 in text messages with close 1007. "+
		"message: gws CheckUtf8Enabled, gorilla/coder utf8.Valid on the whole message; "+
		"stream (gorilla/coder only): validate incrementally while the message is read through NextReader/Reader")
	flag.Parse()
	switch *utf8Mode {
	case "off":
	case "message":
		strictUTF8 = true
	case "stream":
		if *name == "gws" {
			log.Fatal("-utf8=stream: gws has no streaming reader")
		}
		strictUTF8, streamUTF8 = true, true
	default:
		log.Fatalf("bad -utf8 %q", *utf8Mode)
	}
	lowmem = *profile == "lowmem"

	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("refusing non-loopback address %q", *addr)
	}

	var l lib
	switch *name {
	case "gorilla":
		l = newGorilla()
	case "gws":
		l = newGws()
	case "coder":
		l = newCoder()
	default:
		log.Fatalf("unknown -lib %q", *name)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/echo", l.echo)
	mux.HandleFunc("/sink", l.sink)
	mux.HandleFunc("/broadcast", func(w http.ResponseWriter, r *http.Request) {
		seq, _ := strconv.ParseUint(r.URL.Query().Get("seq"), 10, 64)
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		if size < 8 {
			size = 512
		}
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = 'a' + byte(i%26)
		}
		// first 8 bytes: sequence number as 8 ASCII digits (keeps it valid UTF-8)
		copy(payload, fmt.Sprintf("%08d", seq%100000000))
		t0 := time.Now()
		n := l.broadcast(payload)
		ns := time.Since(t0).Nanoseconds()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int64{"n": int64(n), "ns": ns})
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC()
			debug.FreeOSMemory()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"lib": *name, "profile": *profile,
			"conns": conns.Load(), "goroutines": runtime.NumGoroutine(),
			"gomaxprocs": runtime.GOMAXPROCS(0),
			"rss":        vmRSS(), "heap_inuse": ms.HeapInuse, "heap_alloc": ms.HeapAlloc,
			"stack_inuse": ms.StackInuse, "sys": ms.Sys, "num_gc": ms.NumGC,
		})
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "server lib=%s profile=%s addr=%s pid=%d gomaxprocs=%d\n",
		*name, *profile, *addr, os.Getpid(), runtime.GOMAXPROCS(0))
	log.Fatal(srv.Serve(ln))
}

// vmRSS returns VmRSS of this process in bytes.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			fs := strings.Fields(sc.Text())
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			return kb * 1024
		}
	}
	return -1
}

// detach runs a connection's read loop. In the default profile it runs in
// the net/http handler goroutine (the gorilla/coder examples' style), which
// keeps net/http's per-connection state (bufio reader/writer, response,
// request, deep stack) reachable for the connection's lifetime. In the
// lowmem profile the loop gets its own goroutine and the handler returns,
// as gorilla's chat example and gws's README do.
func detach(loop func()) {
	if lowmem {
		go loop()
		return
	}
	loop()
}

// connCtx is the per-connection context for coder/websocket. Its README
// advises against r.Context() ("surprising behavior (see http.Hijacker)") and
// derives from context.Background(); a cancellable one is what a server that
// can shut connections down needs, and it makes every Read/Write register a
// context.AfterFunc, which is part of coder's real cost.
func connCtx() (context.Context, context.CancelFunc) {
	if coderBG { // v1.8.15 skips the timeout callbacks for such contexts (#566)
		return context.Background(), func() {}
	}
	return context.WithCancel(context.Background())
}

// registry of broadcast targets, generic over the connection type.
type registry[T comparable] struct {
	mu sync.Mutex
	m  map[T]struct{}
}

func newRegistry[T comparable]() *registry[T] { return &registry[T]{m: map[T]struct{}{}} }
func (r *registry[T]) add(c T)                { r.mu.Lock(); r.m[c] = struct{}{}; r.mu.Unlock() }
func (r *registry[T]) del(c T)                { r.mu.Lock(); delete(r.m, c); r.mu.Unlock() }
func (r *registry[T]) snapshot() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]T, 0, len(r.m))
	for c := range r.m {
		out = append(out, c)
	}
	return out
}

// ---------------------------------------------------------------- gorilla

type gorillaLib struct {
	up    gorilla.Upgrader
	sinks *registry[*gorillaConn]
}

type gorillaConn struct {
	mu sync.Mutex // gorilla allows one concurrent writer
	c  *gorilla.Conn
}

func newGorilla() *gorillaLib {
	g := &gorillaLib{sinks: newRegistry[*gorillaConn]()}
	// default: zero buffer sizes = reuse net/http's 4 KiB hijacked buffers
	// (the README/echo example setting).
	if lowmem {
		// doc.go "Buffers": small buffers + WriteBufferPool so the write
		// buffer is held only while a message is being written.
		g.up.ReadBufferSize = 1024
		g.up.WriteBufferSize = 1024
		g.up.WriteBufferPool = &sync.Pool{}
	}
	return g
}

func (g *gorillaLib) echo(w http.ResponseWriter, r *http.Request) {
	c, err := g.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conns.Add(1)
	loop := func() {
		defer conns.Add(-1)
		defer c.Close()
		var buf []byte
		for { // examples/echo/server.go
			var mt int
			var msg []byte
			var err error
			if streamUTF8 {
				// examples/autobahn/server.go style: validate while reading
				var r io.Reader
				if mt, r, err = c.NextReader(); err == nil {
					if mt == gorilla.TextMessage {
						r = &utf8Stream{r: r}
					}
					buf, err = readAll(r, buf[:0])
					msg = buf
				}
				if err == errInvalidUTF8 {
					c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
					return
				}
			} else {
				mt, msg, err = c.ReadMessage()
			}
			if err != nil {
				return
			}
			if strictUTF8 && !streamUTF8 && mt == gorilla.TextMessage && !utf8.Valid(msg) {
				// what gorilla's examples/autobahn/server.go does
				c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	}
	detach(loop)
}

func (g *gorillaLib) sink(w http.ResponseWriter, r *http.Request) {
	c, err := g.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conns.Add(1)
	gc := &gorillaConn{c: c}
	g.sinks.add(gc)
	detach(func() {
		defer conns.Add(-1)
		defer c.Close()
		defer g.sinks.del(gc)
		for {
			if _, _, err := c.NextReader(); err != nil {
				return
			}
		}
	})
}

func (g *gorillaLib) broadcast(payload []byte) int {
	pm, err := gorilla.NewPreparedMessage(gorilla.TextMessage, payload)
	if err != nil {
		panic(err)
	}
	cs := g.sinks.snapshot()
	for _, gc := range cs {
		gc.mu.Lock()
		gc.c.SetWriteDeadline(time.Now().Add(writeWait))
		_ = gc.c.WritePreparedMessage(pm)
		gc.mu.Unlock()
	}
	return len(cs)
}

// ---------------------------------------------------------------- gws

type gwsLib struct {
	echoUp, sinkUp *gws.Upgrader
	sinks          *registry[*gws.Conn]
}

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnOpen(*gws.Conn)             { conns.Add(1) }
func (gwsEcho) OnClose(*gws.Conn, error)     { conns.Add(-1) }
func (gwsEcho) OnPing(s *gws.Conn, p []byte) { _ = s.WritePong(p) }
func (gwsEcho) OnMessage(s *gws.Conn, m *gws.Message) {
	defer m.Close() // README "Best Practice"
	_ = s.WriteMessage(m.Opcode, m.Bytes())
}

type gwsSink struct {
	gws.BuiltinEventHandler
	reg *registry[*gws.Conn]
}

func (h gwsSink) OnOpen(s *gws.Conn)                  { conns.Add(1); h.reg.add(s) }
func (h gwsSink) OnClose(s *gws.Conn, _ error)        { conns.Add(-1); h.reg.del(s) }
func (gwsSink) OnMessage(_ *gws.Conn, m *gws.Message) { m.Close() }

func gwsOption() *gws.ServerOption {
	// README "Best Practice" minus compression and minus ParallelEnabled
	// (parallel dispatch reorders messages; Socket.IO needs order; it is
	// also off by default).
	o := &gws.ServerOption{Recovery: gws.Recovery, CheckUtf8Enabled: strictUTF8}
	if lowmem {
		o.ReadBufferSize = 1024 // default 4 KiB; write side is pooled already
	}
	return o
}

func newGws() *gwsLib {
	g := &gwsLib{sinks: newRegistry[*gws.Conn]()}
	g.echoUp = gws.NewUpgrader(gwsEcho{}, gwsOption())
	g.sinkUp = gws.NewUpgrader(gwsSink{reg: g.sinks}, gwsOption())
	return g
}

func (g *gwsLib) serve(up *gws.Upgrader, w http.ResponseWriter, r *http.Request) {
	s, err := up.Upgrade(w, r)
	if err != nil {
		return
	}
	// README: "If HTTP Server is reused, it is recommended to enable
	// goroutine, as blocking will prevent the context from being GC."
	go s.ReadLoop()
}

func (g *gwsLib) echo(w http.ResponseWriter, r *http.Request) { g.serve(g.echoUp, w, r) }
func (g *gwsLib) sink(w http.ResponseWriter, r *http.Request) { g.serve(g.sinkUp, w, r) }

func (g *gwsLib) broadcast(payload []byte) int {
	b := gws.NewBroadcaster(gws.OpcodeText, payload) // README "Broadcast"
	cs := g.sinks.snapshot()
	var wg sync.WaitGroup
	wg.Add(len(cs))
	for _, s := range cs {
		_ = b.Broadcast(s)
		// Broadcast only enqueues on the conn's serial write queue; a
		// marker job queued behind it tells us when the frame is written.
		s.Async(wg.Done)
	}
	b.Close()
	wg.Wait()
	return len(cs)
}

// ---------------------------------------------------------------- coder

type coderLib struct {
	opts  *coder.AcceptOptions
	sinks *registry[*coder.Conn]
}

func newCoder() *coderLib {
	// No buffer knobs: coder/websocket uses net/http's hijacked bufio
	// reader/writer; lowmem only detaches the read loop (see detach).
	return &coderLib{
		opts:  &coder.AcceptOptions{CompressionMode: coder.CompressionDisabled},
		sinks: newRegistry[*coder.Conn](),
	}
}

func (cl *coderLib) echo(w http.ResponseWriter, r *http.Request) {
	c, err := coder.Accept(w, r, cl.opts)
	if err != nil {
		return
	}
	conns.Add(1)
	ctx, cancel := connCtx()
	detach(func() {
		defer conns.Add(-1)
		defer cancel()
		defer c.CloseNow()
		var buf []byte
		for {
			var typ coder.MessageType
			var p []byte
			var err error
			if streamUTF8 {
				var r io.Reader
				if typ, r, err = c.Reader(ctx); err == nil {
					if typ == coder.MessageText {
						r = &utf8Stream{r: r}
					}
					buf, err = readAll(r, buf[:0])
					p = buf
				}
				if err == errInvalidUTF8 {
					c.Close(coder.StatusInvalidFramePayloadData, "")
					return
				}
			} else {
				typ, p, err = c.Read(ctx)
			}
			if err != nil {
				return
			}
			if strictUTF8 && !streamUTF8 && typ == coder.MessageText && !utf8.Valid(p) {
				c.Close(coder.StatusInvalidFramePayloadData, "")
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
}

func (cl *coderLib) sink(w http.ResponseWriter, r *http.Request) {
	c, err := coder.Accept(w, r, cl.opts)
	if err != nil {
		return
	}
	conns.Add(1)
	cl.sinks.add(c)
	ctx, cancel := connCtx()
	detach(func() {
		defer conns.Add(-1)
		defer cancel()
		defer c.CloseNow()
		defer cl.sinks.del(c)
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	})
}

func (cl *coderLib) broadcast(payload []byte) int {
	// coder has no prepared-message API: plain writes (Conn.Write is safe
	// for concurrent use).
	ctx, cancel := context.WithTimeout(context.Background(), writeWait)
	defer cancel()
	cs := cl.sinks.snapshot()
	for _, c := range cs {
		_ = c.Write(ctx, coder.MessageText, payload)
	}
	return len(cs)
}
