package fastaccept

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// listen serves hs on a loopback listener, through the shortcut when fast
// is set, through net/http alone otherwise.
func listen(t *testing.T, hs *http.Server, fast bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if fast {
		go func() { _ = Serve(ln, hs) }()
	} else {
		go func() { _ = hs.Serve(ln) }()
	}
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// statusOf sends head on a new connection and returns the response's
// status code, or 0 when the server closed without one.
func statusOf(t *testing.T, addr, head string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatalf("%q: %v", head, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if isTimeout(err) {
			t.Fatalf("%q: no answer: %v", head, err)
		}
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Header names and values that net/http refuses with 400 are refused on
// the shortcut too (it hands them to net/http): the same head, sent to
// net/http alone and through Serve, gets the same status. textproto
// accepts a space in a name ("X A: 1") for clients' sake, and the
// server's own check, which http.ReadRequest does not run, is what
// refuses it.
func TestInvalidHeadersAsNetHTTP(t *testing.T) {
	var fast atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(*responseWriter); ok {
			fast.Add(1)
		}
		_, _ = io.WriteString(w, "served")
	})
	ref := listen(t, &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, false)
	ours := listen(t, &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, true)
	for _, extra := range []string{
		"X A: 1",               // a space in the name
		"X\tA: 1",              // a tab in the name
		": 1",                  // an empty name
		"X\x01: 1",             // a control character in the name
		"X\x7f: 1",             // DEL in the name
		"X(: 1",                // a separator in the name
		"X\xc3\xa9: 1",         // a non-ASCII name
		"X-A: a\x01b",          // a control character in the value
		"X-A: a\x7fb",          // DEL in the value
		"X-A: a\rb",            // a bare carriage return in the value
		"X-A: a\x00b",          // NUL in the value
		"X-A: \r",              // a carriage return before the line's own
		" X-A: 1",              // a first header line that starts with a space
		"Host: a b",            // a second, malformed Host
		"X-A: a\tb",            // valid: a tab in a value
		"X-A: caf\xc3\xa9",     // valid: obs-text in a value
		"X-A:",                 // valid: an empty value
		"X-A!#$%&'*+.^_`|~: 1", // valid: every token character
	} {
		head := "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" + extra + "\r\n\r\n"
		fast.Store(0)
		want := statusOf(t, ref, head)
		got := statusOf(t, ours, head)
		if got != want {
			t.Errorf("%q: %d through Serve, %d from net/http", extra, got, want)
		}
		if want != http.StatusOK && fast.Load() != 0 {
			t.Errorf("%q: the shortcut served a head net/http refuses", extra)
		}
	}
	// The valid ones above took the shortcut: the check is not too strict.
	fast.Store(0)
	if got := statusOf(t, ours, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-A!#$%&'*+.^_`|~: a\tcaf\xc3\xa9\r\n\r\n"); got != 200 || fast.Load() != 1 {
		t.Errorf("a valid head: %d, shortcut %v", got, fast.Load() == 1)
	}
}

// A head the shortcut hands to net/http part way (it does not start with
// "GET ", or it outgrows the shortcut's buffer) is closed at the one
// header timeout that started when the connection was accepted, not at a
// second one that net/http would start at the hand-over.
//
// The hand-over comes at 0.8 T, so a second timeout would close at 1.8 T
// or later; one timeout closes at T plus scheduling. The bound, 1.5 T, is
// a check of which timeout applies, not of speed.
func TestTrickledHeadOneTimeout(t *testing.T) {
	const T = time.Second
	addr := listen(t, &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: T}, true)
	for _, tc := range []struct {
		name         string
		first, later string
	}{
		{"POST", "POS", "T /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"},
		{"long GET", "GET / HTTP/1.1\r\nHost: x\r\n", "X-Long: " + strings.Repeat("a", maxHead) + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			closed := make(chan time.Duration, 1)
			go func() {
				_ = c.SetReadDeadline(time.Now().Add(5 * T))
				_, err := io.Copy(io.Discard, c)
				if isTimeout(err) {
					closed <- -1
					return
				}
				closed <- time.Since(start)
			}()
			_, _ = io.WriteString(c, tc.first)
			time.Sleep(8 * T / 10)
			_, _ = io.WriteString(c, tc.later)
			// Then a slowloris trickle: a byte of a header every 50 ms.
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case d := <-closed:
					if d < 0 {
						t.Fatal("the connection was not closed within 5 T")
					}
					if d < 9*T/10 || d > 3*T/2 {
						t.Fatalf("closed after %v, want one header timeout (%v)", d, T)
					}
					return
				case <-tick.C:
					_, _ = io.WriteString(c, string("X-Slow: 1\r\n"[i%11]))
				}
			}
		})
	}
}

// A head bigger than MaxHeaderBytes gets net/http's 431 through Serve,
// upgrade or not, and the connection closes.
func TestLargeHead431(t *testing.T) {
	var served atomic.Int32
	hs := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }),
		ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: DefaultMaxHeaderBytes}
	addr := listen(t, hs, true)
	for _, start := range []string{
		"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n",
		"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n",
	} {
		checkLargeHead(t, addr, start, 900<<10)
	}
	if served.Load() != 0 {
		t.Fatal("the handler saw an oversized head")
	}
}

// checkLargeHead sends start, then headers up to size bytes, and expects
// 431 and the connection closed. The head is written while the answer is
// read: the server answers before it has read the whole head.
func checkLargeHead(t *testing.T, addr, start string, size int) {
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
		for i := 0; n < size; i++ {
			m, err := fmt.Fprintf(w, "X-Pad-%d: %s\r\n", i, strings.Repeat("p", 1000))
			if err != nil {
				return // the server closed: expected
			}
			n += m
		}
		_, _ = io.WriteString(w, "\r\n")
		_ = w.Flush()
	}()
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%.40q...: %v", start, err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("%.40q...: %d, want 431", start, resp.StatusCode)
	}
	// The body ends with the connection (a reset counts: the server
	// closes with the rest of the head unread).
	if _, err := io.ReadAll(resp.Body); isTimeout(err) {
		t.Fatalf("%.40q...: the connection stayed open after 431", start)
	}
}
