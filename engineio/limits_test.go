package engineio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// settle waits (bounded) until the process is back to at most fds open
// descriptors and goroutines goroutines, and fails with what is left.
func settle(t *testing.T, fds, goroutines int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, g := openFDs(t), runtime.NumGoroutine()
		if f <= fds && g <= goroutines {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("fds %d (baseline %d), goroutines %d (baseline %d)\n%s", f, fds, g, goroutines, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startPost sends the head of a polling POST for sid announcing size bytes
// of body, and the first byte of it, on a fresh connection.
func startPost(t *testing.T, hs *httptest.Server, sid string, size int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n4", sid, size)
	return c
}

// waitClosed reads c until the server closes it (within limit) and returns
// what it had sent.
func waitClosed(t *testing.T, c net.Conn, limit time.Duration) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(limit))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v (got %q)", limit, b)
	}
	return string(b)
}

// A POST body trickled in is cut off at PostTimeout, however steadily it
// trickles: its session ends, its connection closes, and nothing of it
// stays behind.
func TestPostTrickledIsCutAtPostTimeout(t *testing.T) {
	const timeout = time.Second
	srv, hs, _, recs := newServer(t, Options{PingInterval: time.Hour, PostTimeout: timeout})
	sid := handshake(t, hs)
	rec := <-recs
	hs.Client().CloseIdleConnections()
	fds, goroutines := openFDs(t), runtime.NumGoroutine()

	c := startPost(t, hs, sid, 1000)
	start := time.Now()
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() { // a byte every 100 ms: never idle, never done
		defer close(trickled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	got := waitClosed(t, c, 10*timeout)
	close(stop)
	<-trickled
	if took := time.Since(start); took < timeout-100*time.Millisecond {
		t.Fatalf("cut after %v, before its PostTimeout (%v)", took, timeout)
	}
	if got != "" {
		t.Fatalf("answered %q; want the connection dropped", got)
	}
	reason, err := rec.wait(t)
	if reason != ReasonTransportError || !errors.Is(err, ErrPostTimeout) {
		t.Fatalf("session closed with %q, %v; want %q, ErrPostTimeout", reason, err, ReasonTransportError)
	}
	if srv.Count() != 0 {
		t.Fatalf("%d sessions left", srv.Count())
	}
	c.Close()
	settle(t, fds, goroutines)
}

// The default deadline is the heartbeat's: a POST that takes longer keeps
// its client from answering pings, so its session could not live anyway.
func TestPostTimeoutDefault(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want time.Duration
	}{
		{Options{}, 45 * time.Second},
		{Options{PingInterval: 10 * time.Second, PingTimeout: 5 * time.Second}, 15 * time.Second},
		{Options{PostTimeout: 3 * time.Second}, 3 * time.Second},
	} {
		if got := NewServer(tc.opts).Options().PostTimeout; got != tc.want {
			t.Errorf("PostTimeout for %+v: %v, want %v", tc.opts, got, tc.want)
		}
	}
}

// A POST still reading its body when its session ends (here, a ping
// timeout: the client cannot answer while its POST is pending) is cut off
// with it, long before its own deadline: its handler returns and its
// connection closes.
func TestPostCutWhenSessionEnds(t *testing.T) {
	srv, hs, sessions, recs := newServer(t, Options{
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  300 * time.Millisecond,
		PostTimeout:  time.Minute,
	})
	sid := handshake(t, hs)
	s, rec := <-sessions, <-recs
	hs.Client().CloseIdleConnections()
	fds, goroutines := openFDs(t), runtime.NumGoroutine()

	c := startPost(t, hs, sid, 1000)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		reading := s.postReading
		s.mu.Unlock()
		if reading {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the POST never started reading its body")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if reason, _ := rec.wait(t); reason != ReasonPingTimeout {
		t.Fatalf("session closed with %q, want %q", reason, ReasonPingTimeout)
	}
	waitClosed(t, c, 5*time.Second)
	if srv.Count() != 0 {
		t.Fatalf("%d sessions left", srv.Count())
	}
	c.Close()
	settle(t, fds, goroutines)
}

// A POST that reaches a session that has just ended is refused, not left
// reading a body that nothing would cut.
func TestPostToEndedSessionIsRefused(t *testing.T) {
	_, hs, sessions, _ := newServer(t, Options{PingInterval: time.Hour, PostTimeout: time.Minute})
	sid := handshake(t, hs)
	s := <-sessions
	s.finish(ReasonForcedClose, nil, packet.Close) // still found by id in a race; here by hand
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/?EIO=4&transport=polling&sid="+sid, strings.NewReader("4x"))
	s.servePost(w, r)
	if w.Code != http.StatusBadRequest || w.Body.String() != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// rawRequest sends req on a fresh connection and returns the status line
// and headers of the answer, and whether the server then closed the
// connection.
func rawRequest(t *testing.T, hs *httptest.Server, req string) (*http.Response, bool) {
	t.Helper()
	c, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	// Written on its own goroutine: the server may answer, and close,
	// before it has read a huge head.
	go func() { _, _ = io.WriteString(c, req) }()
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if len(body) > 0 && res.StatusCode >= 400 {
		t.Fatalf("%d with a body: %q", res.StatusCode, body)
	}
	_, err = br.ReadByte()
	return res, err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// A head over MaxHeaderBytes is refused with 431 and the connection
// closed, as Node.js answers, even through a plain http.Server that would
// take 1 MB of it; the limit is Node.js's too (16 KiB).
func TestHugeHeaderIs431(t *testing.T) {
	srv, hs, _, _ := newServer(t, Options{PingInterval: time.Hour})
	sid := handshake(t, hs)
	before := srv.Count()
	wsHead := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	for _, tc := range []struct {
		name, target, extra string
		pad                 int
		want                int
	}{
		{"handshake, 900 kB", "/?EIO=4&transport=polling", "", 900_000, 431},
		{"handshake, 17 kB", "/?EIO=4&transport=polling", "", 17_000, 431},
		{"handshake, 15 kB", "/?EIO=4&transport=polling", "Connection: close\r\n", 15_000, 200},
		{"websocket handshake, 20 kB", "/?EIO=4&transport=websocket", wsHead, 20_000, 431},
		{"upgrade, 20 kB", "/?EIO=4&transport=websocket&sid=" + sid, wsHead, 20_000, 431},
		{"poll, 20 kB", "/?EIO=4&transport=polling&sid=" + sid, "", 20_000, 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := "GET " + tc.target + " HTTP/1.1\r\nHost: x\r\n" + tc.extra + "X-Big: " + strings.Repeat("a", tc.pad) + "\r\n\r\n"
			res, closed := rawRequest(t, hs, req)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if tc.want == 431 && (!closed || !res.Close) {
				t.Fatalf("connection kept (closed %v, Connection: close %v)", closed, res.Close)
			}
		})
	}
	if n := srv.Count(); n != before+1 { // the 15 kB handshake only
		t.Fatalf("%d sessions, want %d", n, before+1)
	}
	if s := srv.Session(sid); s == nil || s.state != stateOpen {
		t.Fatal("a refused poll closed its session")
	}
}

// A target over MaxURLBytes is refused with 414 (Node.js answers 431: its
// limit counts the URL with the headers).
func TestHugeQueryIs414(t *testing.T) {
	srv, hs, _, _ := newServer(t, Options{PingInterval: time.Hour})
	for _, n := range []int{500_000, 9_000} {
		req := "GET /?EIO=4&transport=polling&q=" + strings.Repeat("a", n) + " HTTP/1.1\r\nHost: x\r\n\r\n"
		res, closed := rawRequest(t, hs, req)
		if res.StatusCode != http.StatusRequestURITooLong || !closed {
			t.Fatalf("query of %d bytes: %d, closed %v; want 414, closed", n, res.StatusCode, closed)
		}
	}
	// Just under the limit: served.
	res, body := get(t, hs.URL+"/?EIO=4&transport=polling&q="+strings.Repeat("a", 8000), nil)
	if res.StatusCode != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if srv.Count() != 1 {
		t.Fatalf("%d sessions, want 1", srv.Count())
	}
}

// keptCost is what keepValues counts a kept header or query for.
func keptCost(m map[string][]string) int {
	n := 0
	for k, vs := range m {
		n += len(k)
		for _, v := range vs {
			n += len(v) + fieldCost
		}
	}
	return n
}

// A session keeps at most MaxHeaderBytes of its handshake's headers and
// MaxURLBytes of its query, each field counted with what it costs to keep:
// a head of many tiny fields loses its junk, never its Cookie or
// User-Agent, and the values kept are the ones sent.
func TestKeptHandshakeIsBounded(t *testing.T) {
	_, hs, sessions, _ := newServer(t, Options{PingInterval: time.Hour})
	for _, tc := range []struct {
		name   string
		cookie string
		junk   int // X-Junk-NNNN fields
		query  int // qNNNN parameters
	}{
		{"big cookie and junk", "sid=" + strings.Repeat("c", 6000), 300, 0},
		{"many tiny fields", "sid=abc", 800, 0},
		{"many tiny parameters", "sid=abc", 0, 1000},
	} {
		cookie := tc.cookie
		t.Run(tc.name, func(t *testing.T) {
			url := hs.URL + "/?EIO=4&transport=polling&token=abc"
			for i := 0; i < tc.query; i++ {
				url += fmt.Sprintf("&q%04d=", i)
			}
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Cookie", cookie)
			req.Header.Set("User-Agent", "test-agent")
			req.Header.Add("X-Forwarded-For", "10.0.0.1")
			req.Header.Add("X-Forwarded-For", "10.0.0.2")
			for i := 0; i < tc.junk; i++ {
				req.Header.Set(fmt.Sprintf("X-Junk-%04d", i), "v")
			}
			res, err := hs.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			h := (<-sessions).Handshake()
			if c := keptCost(h.Header); c > 16<<10 {
				t.Fatalf("kept %d bytes of %d header fields, budget %d", c, len(h.Header), 16<<10)
			}
			if c := keptCost(h.Query); c > 8<<10 {
				t.Fatalf("kept %d bytes of %d query parameters, budget %d", c, len(h.Query), 8<<10)
			}
			if h.Header.Get("Cookie") != cookie || h.Header.Get("User-Agent") != "test-agent" ||
				!slices.Equal(h.Header.Values("X-Forwarded-For"), []string{"10.0.0.1", "10.0.0.2"}) {
				t.Fatalf("lost a field applications read: %v", h.Header)
			}
			if h.Query.Get("EIO") != "4" || h.Query.Get("transport") != "polling" {
				t.Fatalf("lost the protocol's parameters: %v", h.Query)
			}
			if tc.query > 0 && len(h.Query) >= tc.query {
				t.Fatalf("kept all %d parameters", len(h.Query))
			}
			if tc.junk > 0 && len(h.Header) >= tc.junk {
				t.Fatalf("kept all %d fields", len(h.Header))
			}
			// Dropped in name order, whole.
			for i := 0; i < tc.junk; i++ {
				name := fmt.Sprintf("X-Junk-%04d", i)
				if _, ok := h.Header[name]; !ok {
					for j := i + 1; j < tc.junk; j++ {
						if _, ok := h.Header[fmt.Sprintf("X-Junk-%04d", j)]; ok {
							t.Fatalf("%s dropped but X-Junk-%04d kept", name, j)
						}
					}
					break
				}
			}
		})
	}
}

// The compact copy shares one allocation, so its value slices are capped:
// appending to one never overwrites another's.
func TestKeepValuesCopies(t *testing.T) {
	src := map[string][]string{"A": {"1", "2"}, "B": {"3"}, "Cookie": {"c"}}
	got := keepValues(src, 1<<20, keptHeaders)
	src["A"][0] = "changed"
	a := append(got["A"], "x")
	_ = a
	if !slices.Equal(got["A"], []string{"1", "2"}) || !slices.Equal(got["B"], []string{"3"}) || got["Cookie"][0] != "c" {
		t.Fatalf("%v", got)
	}
	if len(keepValues(src, 0, keptHeaders)) != 0 {
		t.Fatal("kept something on a zero budget")
	}
}
