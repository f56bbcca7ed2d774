// Command server is the sockio side of the lossy-network test (test/netem):
// sockio with connection-state recovery on, and a tiny contract.
//
//   - "hello" (acked): broadcasts "hello", which gives every client an
//     offset to recover from (the warm-up).
//   - "start" (acked): starts the ticker once; answers {ticks, every, t}.
//     The ticker emits "tick" (seq, t) to every socket, seq 1..ticks, one
//     per -every, t the server's wall clock in ms.
//   - "msg" (from, n, ack): broadcasts "msg" (from, n, t) to every other
//     socket and acks {dup}. A message a client resends (the official
//     client's retries resend what was not acked before a disconnection)
//     is broadcast once and acked {dup: true}: retries are at least once,
//     and deduplicating by id is the application's part.
//   - "stats" (acked): what the server saw.
//
// -middleware adds a namespace middleware that takes that long; recovered
// sockets run it too (RecoveryOptions.SkipMiddlewares is off).
//
// It prints "READY <addr>" once it listens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sockio/sockio"
)

type config struct {
	addr         string
	ticks        int
	every        time.Duration
	pingInterval time.Duration
	pingTimeout  time.Duration
	recovery     time.Duration
	middleware   time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:0", "listen address")
	flag.IntVar(&c.ticks, "ticks", 1200, "number of ticks")
	flag.DurationVar(&c.every, "every", 25*time.Millisecond, "tick period")
	flag.DurationVar(&c.pingInterval, "ping-interval", time.Second, "Engine.IO pingInterval")
	flag.DurationVar(&c.pingTimeout, "ping-timeout", 3*time.Second, "Engine.IO pingTimeout")
	flag.DurationVar(&c.recovery, "recovery", 2*time.Minute, "connection-state recovery window")
	flag.DurationVar(&c.middleware, "middleware", 0, "when set, a namespace middleware that takes this long (an auth check, say)")
	flag.Parse()
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// stamp is the wall clock in ms: the clients compare it with theirs (same
// host, same clock, another network namespace).
func stamp() float64 { return float64(time.Now().UnixMicro()) / 1000 }

type stats struct {
	mu        sync.Mutex
	started   float64
	lastSeq   int
	tickDone  float64
	msgs      int
	dups      int
	fresh     int
	recovered int
	reasons   map[string]int
	seen      map[string]bool // from + "/" + n
	events    []event
}

// event is a connection or disconnection the server saw, for the test's
// failure messages: what the server did when a client lost something.
type event struct {
	SID       string  `json:"sid"`
	Kind      string  `json:"kind"`
	Recovered bool    `json:"recovered,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	T         float64 `json:"t"`
	Seq       int     `json:"seq"` // the last tick emitted by then
}

func run(c config) error {
	io := sockio.NewServer(sockio.Options{
		ConnectionStateRecovery: &sockio.RecoveryOptions{MaxDisconnectionDuration: c.recovery},
		PingInterval:            c.pingInterval,
		PingTimeout:             c.pingTimeout,
	})
	nsp := io.Of("/")
	if c.middleware > 0 {
		nsp.Use(func(*sockio.Socket) error { time.Sleep(c.middleware); return nil })
	}
	st := &stats{reasons: map[string]int{}, seen: map[string]bool{}}

	var startOnce sync.Once
	ticker := func() {
		t := time.NewTicker(c.every)
		defer t.Stop()
		for seq := 1; seq <= c.ticks; seq++ {
			<-t.C
			_ = nsp.Emit("tick", seq, stamp())
			st.mu.Lock()
			st.lastSeq = seq
			st.mu.Unlock()
		}
		st.mu.Lock()
		st.tickDone = stamp()
		st.mu.Unlock()
		log.Printf("ticks done: %d", c.ticks)
	}

	nsp.OnDisconnect(func(s *sockio.Socket, reason string) {
		st.mu.Lock()
		st.reasons[reason]++
		st.events = append(st.events, event{SID: s.ID(), Kind: "disconnect", Reason: reason, T: stamp(), Seq: st.lastSeq})
		st.mu.Unlock()
	})
	io.OnConnection(func(s *sockio.Socket) {
		st.mu.Lock()
		if s.Recovered() {
			st.recovered++
		} else {
			st.fresh++
		}
		st.events = append(st.events, event{SID: s.ID(), Kind: "connect", Recovered: s.Recovered(), T: stamp(), Seq: st.lastSeq})
		st.mu.Unlock()
		s.On("hello", func(ack sockio.Ack) {
			_ = nsp.Emit("hello")
			ack(true)
		})
		s.On("start", func(ack sockio.Ack) {
			startOnce.Do(func() {
				st.mu.Lock()
				st.started = stamp()
				st.mu.Unlock()
				go ticker()
			})
			st.mu.Lock()
			defer st.mu.Unlock()
			ack(map[string]any{"ticks": c.ticks, "every": c.every.Milliseconds(), "t": st.started})
		})
		s.On("msg", func(from string, n int, ack sockio.Ack) {
			key := fmt.Sprintf("%s/%d", from, n)
			// The lock spans the broadcast so that a sender's messages
			// go out in the order they were first seen.
			st.mu.Lock()
			dup := st.seen[key]
			if dup {
				st.dups++
			} else {
				st.seen[key] = true
				st.msgs++
				_ = s.Broadcast().Emit("msg", from, n, stamp())
			}
			st.mu.Unlock()
			ack(map[string]any{"dup": dup})
		})
		s.On("stats", func(ack sockio.Ack) {
			st.mu.Lock()
			defer st.mu.Unlock()
			reasons := map[string]int{}
			for k, v := range st.reasons {
				reasons[k] = v
			}
			ack(map[string]any{
				"started": st.started, "lastSeq": st.lastSeq, "tickDone": st.tickDone,
				"msgs": st.msgs, "dups": st.dups, "fresh": st.fresh, "recovered": st.recovered,
				"reasons": reasons, "sockets": len(nsp.Sockets()), "events": st.events,
			})
		})
	})

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs := &http.Server{Handler: mux}
	errc := make(chan error, 1)
	// sockio.Serve, as `sockio serve` does: its limits and its WebSocket path.
	go func() { errc <- sockio.Serve(ln, hs) }()
	fmt.Printf("READY %s\n", ln.Addr())

	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		return fmt.Errorf("failed to serve: %w", err)
	case <-sig.Done():
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = io.Close(ctx)
	if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("failed to shut down: %w", err)
	}
	return nil
}
