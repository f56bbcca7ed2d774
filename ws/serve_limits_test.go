package ws

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Serve (what `sockio echo` runs) closes idle keep-alive connections and
// bounds request heads as sockio.Serve does: the HTTP server it builds has
// the limits (not timed), and a 900 kB head gets 431 and a closed
// connection instead of reaching the handler.
func TestServeLimits(t *testing.T) {
	s := &Server{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Shutdown(t.Context())
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	// A plain request: once it is answered, Serve has built its server.
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.mu.Lock()
	hs := s.http
	s.mu.Unlock()
	if hs.ReadHeaderTimeout != 10*time.Second || hs.IdleTimeout != 6*time.Second || hs.MaxHeaderBytes != 16<<10 {
		t.Errorf("ReadHeaderTimeout %v, IdleTimeout %v, MaxHeaderBytes %d; want 10s, 6s, 16 KiB",
			hs.ReadHeaderTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	}

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		w := bufio.NewWriterSize(c, 32<<10)
		n, _ := io.WriteString(w, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
		for i := 0; n < 900<<10; i++ {
			m, err := fmt.Fprintf(w, "X-Pad-%d: %s\r\n", i, strings.Repeat("p", 1000))
			if err != nil {
				return // the server closed
			}
			n += m
		}
		_, _ = io.WriteString(w, "\r\n")
		_ = w.Flush()
	}()
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body) // to the end of the connection, or a reset
	var ne net.Error
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("a 900 kB head: %d (%v), want 431 and the connection closed", resp.StatusCode, err)
	}
}
