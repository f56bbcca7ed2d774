package ws

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for n, w := range want {
		if got := b.delay(n); got != w*time.Millisecond {
			t.Errorf("delay(%d) = %v, want %v", n, got, w*time.Millisecond)
		}
	}
	b.jitter = 0.5
	seen := map[time.Duration]bool{}
	for i := 0; i < 200; i++ {
		d := b.delay(2)
		if d < 200*time.Millisecond || d > 600*time.Millisecond {
			t.Fatalf("jittered delay %v outside 400 ms ± 50%%", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter produced %d distinct delays in 200", len(seen))
	}
}

// restartable is a server whose listener can be closed and reopened on the
// same port, to cut clients off and let them back.
type restartable struct {
	t     *testing.T
	addr  string
	opens atomic.Int32
	mu    sync.Mutex
	srv   *Server
	errc  chan error
}

func newRestartable(t *testing.T) *restartable {
	r := &restartable{t: t}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) start() {
	r.t.Helper()
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after a stop
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = l.Addr().String()
	srv := &Server{Handlers: echoHandlers()}
	srv.OnOpen = func(*Conn) { r.opens.Add(1) }
	r.mu.Lock()
	r.srv, r.errc = srv, make(chan error, 1)
	errc := r.errc
	r.mu.Unlock()
	go func() { errc <- srv.Serve(l) }()
}

// stop shuts the server down, closing its connections with 1001.
func (r *restartable) stop() {
	r.mu.Lock()
	srv, errc := r.srv, r.errc
	r.srv = nil
	r.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	<-errc
}

func TestReconnecting(t *testing.T) {
	rs := newRestartable(t)
	ev := newEvents()
	var reconnecting atomic.Int32
	rc := DialReconnecting("ws://"+rs.addr, &ReconnectOptions{
		DialOptions:    DialOptions{Handlers: ev.handlers()},
		MinDelay:       20 * time.Millisecond,
		MaxDelay:       100 * time.Millisecond,
		OnReconnecting: func(int, time.Duration) { reconnecting.Add(1) },
	})
	ev.wait(t, "first open", func() bool { return len(ev.opened) == 1 })
	if err := rc.SendText([]byte("one")); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "echo", func() bool { return len(ev.texts) == 1 })

	rs.stop()
	ev.wait(t, "loss", func() bool { return len(ev.closes) == 1 })
	if ev.closes[0].code != CloseGoingAway {
		t.Fatalf("close %+v", ev.closes[0])
	}
	time.Sleep(150 * time.Millisecond) // a few failed attempts while the server is down
	if st := rc.ReadyState(); st != Connecting {
		t.Fatalf("state while down: %v", st)
	}
	if err := rc.SendText([]byte("lost")); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("send while down: %v", err)
	}
	rs.start()
	ev.wait(t, "second open", func() bool { return len(ev.opened) == 2 })
	if reconnecting.Load() < 2 {
		t.Fatalf("OnReconnecting called %d times", reconnecting.Load())
	}
	_ = rc.SendText([]byte("two"))
	ev.wait(t, "echo after reconnect", func() bool { return len(ev.texts) == 2 })

	if err := rc.Close(CloseNormal, "done"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rc.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed")
	}
	if rc.ReadyState() != Closed || rc.Conn() != nil {
		t.Fatalf("after Close: %v", rc.ReadyState())
	}
	assertNoTimer(t, rc)
	opens := rs.opens.Load()
	time.Sleep(100 * time.Millisecond)
	if rs.opens.Load() != opens {
		t.Fatal("reconnected after Close")
	}
}

// Many triggers at once start a single attempt: the reconnection lock.
func TestReconnectLock(t *testing.T) {
	rs := newRestartable(t)
	ev := newEvents()
	rc := DialReconnecting("ws://"+rs.addr, &ReconnectOptions{
		DialOptions: DialOptions{Handlers: ev.handlers()},
		MinDelay:    50 * time.Millisecond,
	})
	defer rc.Close(CloseNormal, "")
	ev.wait(t, "open", func() bool { return len(ev.opened) == 1 })
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); rc.Reconnect() }()
	}
	wg.Wait()
	ev.wait(t, "reopen", func() bool { return len(ev.opened) == 2 })
	time.Sleep(300 * time.Millisecond) // time for stray attempts to show up
	if got := rs.opens.Load(); got != 2 {
		t.Fatalf("server saw %d connections, want 2 (one reconnection)", got)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.opened) != 2 {
		t.Fatalf("client opened %d connections", len(ev.opened))
	}
}

func TestReconnectGiveUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	gaveUp := make(chan error, 1)
	var attempts atomic.Int32
	rc := DialReconnecting("ws://"+addr, &ReconnectOptions{
		MinDelay:       5 * time.Millisecond,
		MaxAttempts:    4,
		OnReconnecting: func(int, time.Duration) { attempts.Add(1) },
		OnGiveUp:       func(err error) { gaveUp <- err },
	})
	select {
	case err := <-gaveUp:
		if !strings.Contains(err.Error(), "4 attempts") {
			t.Fatalf("give-up error: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not give up")
	}
	<-rc.Done()
	if attempts.Load() != 3 || rc.ReadyState() != Closed {
		t.Fatalf("%d waits before giving up, state %v", attempts.Load(), rc.ReadyState())
	}
	if err := rc.Close(CloseNormal, ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("Close after giving up: %v", err)
	}
	assertNoTimer(t, rc)
}

// assertNoTimer checks that a closed Reconnecting holds no armed timer nor
// running dial.
func assertNoTimer(t *testing.T, rc *Reconnecting) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.timer != nil || rc.cancel != nil {
		t.Fatalf("after close: timer %v, dial running %v", rc.timer != nil, rc.cancel != nil)
	}
}

// The client heartbeat finds a server that stopped answering and the
// connection comes back.
func TestReconnectOnHeartbeat(t *testing.T) {
	// A TCP proxy that can freeze the flow both ways, like a dead network.
	rs := newRestartable(t)
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var frozen atomic.Bool
	var conns sync.WaitGroup
	t.Cleanup(func() { pl.Close(); conns.Wait() })
	go func() {
		for {
			c, err := pl.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", rs.addr)
			if err != nil {
				c.Close()
				continue
			}
			pipe := func(dst, src net.Conn) {
				defer conns.Done()
				defer dst.Close()
				defer src.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if err != nil {
						return
					}
					if frozen.Load() {
						continue // dropped, as by a dead link
					}
					if _, err := dst.Write(buf[:n]); err != nil {
						return
					}
				}
			}
			conns.Add(2)
			go pipe(up, c)
			go pipe(c, up)
		}
	}()
	ev := newEvents()
	rc := DialReconnecting("ws://"+pl.Addr().String(), &ReconnectOptions{
		DialOptions: DialOptions{Handlers: ev.handlers(), ConnOptions: ConnOptions{
			PingInterval: 100 * time.Millisecond, PongTimeout: 100 * time.Millisecond,
		}},
		MinDelay: 10 * time.Millisecond,
	})
	defer rc.Close(CloseNormal, "")
	ev.wait(t, "open", func() bool { return len(ev.opened) == 1 })
	frozen.Store(true)
	ev.wait(t, "pong timeout", func() bool { return len(ev.closes) == 1 })
	if ev.closes[0].code != CloseInternalError {
		t.Fatalf("close %+v", ev.closes[0])
	}
	frozen.Store(false)
	ev.wait(t, "reconnect", func() bool { return len(ev.opened) == 2 })
}
