package sockio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Serve fills the limits an http.Server leaves unset before it serves (not
// timed: the values are read back from the server it was given).
func TestServeSetsDefaults(t *testing.T) {
	served := make(chan struct{}, 1)
	hs := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		select {
		case served <- struct{}{}:
		default:
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Serve(ln, hs) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-served // the handler ran after Serve set the fields: reading them is not a race
	if hs.ReadHeaderTimeout != DefaultReadHeaderTimeout || hs.IdleTimeout != DefaultIdleTimeout ||
		hs.MaxHeaderBytes != DefaultMaxHeaderBytes || hs.ReadTimeout != 0 || hs.WriteTimeout != 0 {
		t.Errorf("after Serve: ReadHeaderTimeout %v, IdleTimeout %v, MaxHeaderBytes %d, ReadTimeout %v, WriteTimeout %v",
			hs.ReadHeaderTimeout, hs.IdleTimeout, hs.MaxHeaderBytes, hs.ReadTimeout, hs.WriteTimeout)
	}
	_ = hs.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if DefaultReadHeaderTimeout != 10*time.Second || DefaultIdleTimeout != 6*time.Second || DefaultMaxHeaderBytes != 16<<10 {
		t.Fatal("the documented defaults changed: update serve.go, doc.go, README and docs/reliability.md")
	}
}

// What the owner set is kept; a positive ReadTimeout already bounds the
// head and idleness in net/http; a negative value means "no limit".
func TestServeKeepsOwnersLimits(t *testing.T) {
	type limits struct {
		readHeader, idle, read time.Duration
		maxHeader              int
	}
	for _, tc := range []struct{ in, want limits }{
		{limits{time.Second, time.Minute, 0, 1 << 20}, limits{time.Second, time.Minute, 0, 1 << 20}},
		{limits{0, 0, 30 * time.Second, 0}, limits{0, 0, 30 * time.Second, DefaultMaxHeaderBytes}},
		{limits{-1, -1, 0, -1}, limits{-1, -1, 0, -1}},
		{limits{0, 0, -1, 0}, limits{DefaultReadHeaderTimeout, DefaultIdleTimeout, -1, DefaultMaxHeaderBytes}},
	} {
		hs := &http.Server{ReadHeaderTimeout: tc.in.readHeader, IdleTimeout: tc.in.idle,
			ReadTimeout: tc.in.read, MaxHeaderBytes: tc.in.maxHeader}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- Serve(ln, hs) }()
		_ = hs.Close() // may come before Serve starts: then Serve returns at once
		<-done
		if got := (limits{hs.ReadHeaderTimeout, hs.IdleTimeout, hs.ReadTimeout, hs.MaxHeaderBytes}); got != tc.want {
			t.Errorf("from %+v: %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// A request head of 900 kB gets 431 from a server run by Serve with no
// limit of its own set, before any handler sees it, and the connection
// closes (the reference answers 431 at 16 KiB). The Server refuses large
// heads on its own path too; here the head also goes to a page of the
// same mux, which has no such check, and to a WebSocket upgrade.
func TestServeRefusesLargeHead(t *testing.T) {
	srv := NewServer(Options{})
	t.Cleanup(func() { _ = srv.Close(t.Context()) })
	var pages atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) { pages.Add(1) })
	hs := &http.Server{Handler: mux}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = Serve(ln, hs) }()
	t.Cleanup(func() { _ = hs.Close() })
	for _, start := range []string{
		"GET /index.html HTTP/1.1\r\nHost: x\r\n",
		"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n",
		"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
		"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
	} {
		status, closed := sendLargeHead(t, ln.Addr().String(), start, 900<<10)
		if status != http.StatusRequestHeaderFieldsTooLarge || !closed {
			t.Errorf("%.50q...: status %d, closed %v; want 431 and closed", start, status, closed)
		}
	}
	if n := pages.Load(); n != 0 {
		t.Errorf("the page handler saw %d oversized heads", n)
	}
}

// sendLargeHead writes start and headers up to size bytes while it reads
// the answer (the server answers before it has read the whole head).
func sendLargeHead(t *testing.T, addr, start string, size int) (status int, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		w := bufio.NewWriterSize(c, 32<<10)
		n, _ := io.WriteString(w, start)
		pad := strings.Repeat("p", 1000)
		for i := 0; n < size; i++ {
			m, err := fmt.Fprintf(w, "X-Pad-%d: %s\r\n", i, pad)
			if err != nil {
				return // the server closed
			}
			n += m
		}
		_, _ = io.WriteString(w, "\r\n")
		_ = w.Flush()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%.50q...: %v", start, err)
	}
	_, err = io.ReadAll(resp.Body) // to the end of the connection, or a reset
	var ne net.Error
	return resp.StatusCode, !errors.As(err, &ne) || !ne.Timeout()
}

// Issue #12, row 1: keep-alive connections left idle after one request
// each must not hold the server's file descriptors. The server runs in a
// child process with its file limit at 64, as the row's was at 512: the
// test fills it with idle connections until one more client is not
// served (the server cannot accept it), then that client must be served
// within the idle timeout plus a margin, the idle connections closed by
// the server, and the server's open descriptors (counted in
// /proc/<pid>/fd) back near where they started.
func TestServeClosesIdleKeepAlive(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc to count the server's descriptors")
	}
	const limit = 64
	child := exec.Command(os.Args[0], "-test.run=^TestServeHelperProcess$")
	child.Env = append(os.Environ(), fmt.Sprintf("SOCKIO_SERVE_HELPER=%d", limit))
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the child exits when its stdin ends
		if err := child.Wait(); err != nil {
			t.Errorf("server process: %v", err)
		}
	})
	addr := ""
	sc := bufio.NewScanner(stdout)
	for addr == "" && sc.Scan() {
		addr, _ = strings.CutPrefix(sc.Text(), "serving on ")
	}
	if addr == "" {
		t.Fatal("the server process did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", child.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	base := fds()

	// One request each, then idle, until the server cannot take one more.
	var idle []net.Conn
	var waiting net.Conn
	var waitingBR *bufio.Reader
	var lastServed time.Time
	t.Cleanup(func() {
		for _, c := range idle {
			c.Close()
		}
	})
	for i := 0; i < 2*limit && waiting == nil; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := http.ReadResponse(br, nil); err != nil {
			waiting, waitingBR = c, br // in the listen queue: no descriptor for it
			t.Cleanup(func() { c.Close() })
			break
		}
		idle = append(idle, c)
		lastServed = time.Now()
	}
	if waiting == nil {
		t.Fatalf("%d connections held and the server still accepts: the file limit is not in force", len(idle))
	}
	t.Logf("%d idle connections fill the server's %d descriptors (%d at start)", len(idle), limit, base)

	// Served once the idle connections are closed. (Before the fix: never.)
	_ = waiting.SetReadDeadline(time.Now().Add(DefaultIdleTimeout + 5*time.Second))
	resp, err := http.ReadResponse(waitingBR, nil)
	if err != nil {
		t.Fatalf("the next client was not served: %v", err)
	}
	resp.Body.Close()
	for i, c := range idle {
		_ = c.SetReadDeadline(lastServed.Add(DefaultIdleTimeout + 5*time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("idle connection %d: %v, want closed by the server", i, err)
		}
		c.Close()
	}
	idle = nil
	// The server holds the waiting client's connection (idle now) and
	// whatever it had at the start.
	deadline := time.Now().Add(5 * time.Second)
	for fds() > base+1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := fds(); n > base+1 {
		t.Fatalf("the server holds %d descriptors, %d at start", n, base)
	}
}

// TestServeHelperProcess is the server of TestServeClosesIdleKeepAlive,
// run in a process of its own so that its file limit can be lowered.
func TestServeHelperProcess(t *testing.T) {
	var limit uint64
	if _, err := fmt.Sscan(os.Getenv("SOCKIO_SERVE_HELPER"), &limit); err != nil {
		t.Skip("the server process of TestServeClosesIdleKeepAlive")
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	rl.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Options{})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	// The server as a user writes it: no limit set, Serve's defaults. (Its
	// log would repeat "too many open files" while the limit is reached.)
	hs := &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = Serve(ln, hs) }()
	fmt.Printf("serving on %s\n", ln.Addr())
	_, _ = os.Stdin.Read(make([]byte, 1)) // until the test closes it
	_ = hs.Close()
	os.Exit(0)
}

// ListenAndServe says which address it could not listen on.
func TestListenAndServeListenError(t *testing.T) {
	err := ListenAndServe("127.0.0.1:-1", nil)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:-1") {
		t.Fatalf("ListenAndServe: %v, want a listen error naming the address", err)
	}
}
