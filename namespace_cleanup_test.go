package sockio

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestCleanupEmptyChildNamespaces is issue #12's row "20,000 dynamic
// namespaces created by clients: kept forever", with 2,000: one client
// connects to 2,000 names a parent accepts (a quarter refused by its
// middleware) and leaves them. With CleanupEmptyChildNamespaces the server
// is back to its static namespaces, goroutines and heap; without it every
// child is kept, refused ones included, as in the reference.
func TestCleanupEmptyChildNamespaces(t *testing.T) {
	const n, batch = 2000, 100
	for _, cleanup := range []bool{true, false} {
		t.Run(fmt.Sprintf("cleanup=%v", cleanup), func(t *testing.T) {
			io, hs := newTestServer(t, Options{CleanupEmptyChildNamespaces: cleanup})
			io.OnConnection(func(*Socket) {})
			parent := io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
			parent.Use(func(s *Socket) error {
				if strings.HasSuffix(s.Namespace().Name(), "3") {
					return &ConnectError{Message: "no"}
				}
				return nil
			})
			parent.OnConnection(func(s *Socket) { s.Join("room") })

			// Warm up the HTTP server and the client library.
			w := dial(t, hs)
			w.connect("/")
			_ = w.ws.Close()
			waitFor(t, func() bool { return io.Engine().Count() == 0 })
			goroutines, heap := runtime.NumGoroutine(), heapInUse()

			c := dial(t, hs)
			c.connect("/")
			for lo := 0; lo < n; lo += batch {
				for i := lo; i < lo+batch; i++ {
					c.send(fmt.Sprintf("40/dyn-%d,", i))
				}
				for i := lo; i < lo+batch; i++ {
					want := fmt.Sprintf("40/dyn-%d,{", i)
					if i%10 == 3 {
						want = fmt.Sprintf(`44/dyn-%d,{"message":"no"}`, i)
					}
					if got := c.read(); !strings.HasPrefix(got, want) {
						t.Fatalf("namespace %d: answer %q, want %q...", i, got, want)
					}
				}
				for i := lo; i < lo+batch; i++ {
					if i%10 != 3 {
						c.send(fmt.Sprintf("41/dyn-%d,", i))
					}
				}
			}
			_ = c.ws.Close()
			waitFor(t, func() bool { return io.Engine().Count() == 0 })

			if !cleanup {
				if got := len(io.Namespaces()); got != n+1 {
					t.Fatalf("%d namespaces kept, want %d (the reference keeps them)", got, n+1)
				}
				if got := len(parent.Children()); got != n {
					t.Fatalf("%d children kept, want %d", got, n)
				}
				t.Logf("%d namespaces kept: heap %+d KiB", n, (int64(heapInUse())-int64(heap))/1024)
				return
			}
			waitFor(t, func() bool { return len(io.Namespaces()) == 1 && len(parent.Children()) == 0 })
			if io.Namespaces()[0] != io.Of("/") {
				t.Fatalf("namespaces left: %v", io.Namespaces()[0].Name())
			}
			waitFor(t, func() bool { return runtime.NumGoroutine() <= goroutines+2 })
			// 2,000 kept namespaces hold megabytes; a few hundred KiB of
			// slack covers pools and the runtime's own growth.
			grown := int64(heapInUse()) - int64(heap)
			t.Logf("heap %+d KiB after %d namespaces came and went", grown/1024, n)
			if grown > 512<<10 {
				t.Fatalf("heap grew by %d KiB", grown/1024)
			}
		})
	}
}

// A name longer than MaxNamespaceNameBytes is refused with "Invalid
// namespace" before a parent's match function sees it, and creates
// nothing; one at the bound connects.
func TestNamespaceNameBound(t *testing.T) {
	io, hs := newTestServer(t, Options{CleanupEmptyChildNamespaces: true})
	var asked atomic.Int32
	io.OfFunc(func(name string, _ map[string]any) bool {
		asked.Add(1)
		return strings.HasPrefix(name, "/dyn-")
	})
	long := "/" + strings.Repeat("l", DefaultMaxNamespaceNameBytes) // static: reached whatever its length
	io.Of(long)

	c := dial(t, hs)
	tooLong := "/dyn-" + strings.Repeat("9", DefaultMaxNamespaceNameBytes-4)
	if got := c.connect(tooLong); got != "44"+tooLong+`,{"message":"Invalid namespace"}` {
		t.Fatalf("too long a name: %.80q", got)
	}
	if asked.Load() != 0 || len(io.Namespaces()) != 2 {
		t.Fatalf("match asked %d times, %d namespaces", asked.Load(), len(io.Namespaces()))
	}
	atBound := tooLong[:DefaultMaxNamespaceNameBytes]
	if got := c.connect(atBound); !strings.HasPrefix(got, "40"+atBound+",{") {
		t.Fatalf("a name of %d bytes: %.80q", len(atBound), got)
	}
	if got := c.connect(long); !strings.HasPrefix(got, "40"+long+",{") {
		t.Fatalf("a static namespace with a long name: %.80q", got)
	}

	// The bound is an option.
	io2, hs2 := newTestServer(t, Options{MaxNamespaceNameBytes: 8})
	io2.OfFunc(func(string, map[string]any) bool { return true })
	c2 := dial(t, hs2)
	if got := c2.connect("/abcdefg"); !strings.HasPrefix(got, "40/abcdefg,{") {
		t.Fatalf("8 bytes: %q", got)
	}
	if got := c2.connect("/abcdefgh"); got != `44/abcdefgh,{"message":"Invalid namespace"}` {
		t.Fatalf("9 bytes: %q", got)
	}
}

// With connection-state recovery on, a child namespace whose socket lost
// its connection is kept while that socket may come back, so it does come
// back (same id); then it goes once empty and past the window.
func TestCleanupKeepsRecoverableNamespace(t *testing.T) {
	const window = 400 * time.Millisecond
	io, hs := newTestServer(t, Options{
		CleanupEmptyChildNamespaces: true,
		ConnectionStateRecovery:     &RecoveryOptions{MaxDisconnectionDuration: window},
	})
	gone := make(chan string, 4)
	parent := io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	parent.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(reason string) { gone <- reason })
		_ = s.Emit("hello")
	})
	has := func() bool {
		for _, n := range io.Namespaces() {
			if n.Name() == "/dyn-1" {
				return true
			}
		}
		return false
	}

	c := dial(t, hs)
	sid, pid := connectAnswer(t, strings.Replace(c.connect("/dyn-1"), "/dyn-1,", "", 1))
	offset := lastArg(t, strings.Replace(c.read(), "/dyn-1,", "", 1))
	_ = c.ws.Close() // "transport close": recoverable
	if r := <-gone; r != "transport close" {
		t.Fatalf("reason %q", r)
	}
	waitFor(t, func() bool { return io.Engine().Count() == 0 })
	if !has() {
		t.Fatal("the namespace went while its socket could still be recovered")
	}

	c2 := dial(t, hs)
	c2.send(`40/dyn-1,{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if sid2, _ := connectAnswer(t, strings.Replace(c2.read(), "/dyn-1,", "", 1)); sid2 != sid {
		t.Fatalf("not recovered: socket %s, was %s", sid2, sid)
	}
	c2.send("41/dyn-1,") // leaves for good: nothing to keep for it
	if r := <-gone; r != "client namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	start := time.Now()
	waitFor(t, func() bool { return !has() })
	if len(parent.Children()) != 0 {
		t.Fatal("still a child of its parent")
	}
	t.Logf("removed %v after the last socket left", time.Since(start).Round(time.Millisecond))
}

// Sockets that join and leave one child namespace from many connections at
// once never end up in a namespace the server has let go of: each
// connected socket's namespace is the server's.
func TestCleanupRacesConnects(t *testing.T) {
	io, hs := newTestServer(t, Options{CleanupEmptyChildNamespaces: true})
	var orphans atomic.Int32
	parent := io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	parent.Use(func(*Socket) error {
		time.Sleep(time.Millisecond) // widens the time between lookup and join
		return nil
	})
	parent.OnConnection(func(s *Socket) {
		s.On("check", func(ack Ack) {
			io.mu.RLock()
			live := io.nsps[s.Namespace().Name()] == s.Namespace()
			io.mu.RUnlock()
			if !live {
				orphans.Add(1)
			}
			ack()
		})
	})
	const clients, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for k := 0; k < clients; k++ {
		c := dial(t, hs)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				c.send("40/dyn-1,")
				if got := c.read(); !strings.HasPrefix(got, "40/dyn-1,{") {
					errs <- errors.New("connect answer " + got)
					return
				}
				c.send(`42/dyn-1,7["check"]`)
				if got := c.read(); got != "43/dyn-1,7[]" {
					errs <- errors.New("check answer " + got)
					return
				}
				c.send("41/dyn-1,")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := orphans.Load(); n > 0 {
		t.Fatalf("%d sockets were in a namespace the server had removed", n)
	}
	waitFor(t, func() bool { return len(io.Namespaces()) == 1 })
}
