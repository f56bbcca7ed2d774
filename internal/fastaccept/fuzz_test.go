package fastaccept

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// FuzzServeConn sends arbitrary bytes as a connection's first request, then
// half-closes. Whatever they are, the server must end the exchange (no
// hang, no panic), and the shortcut may only take a complete upgrade head
// with nothing after it.
func FuzzServeConn(f *testing.F) {
	f.Add([]byte("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"))
	f.Add([]byte("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x80abcd"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: WebSocket\r\nContent-Length: 1\r\n\r\n"))
	f.Add([]byte("GET"))
	f.Add([]byte("\x16\x03\x01\x00"))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, fast := w.(*responseWriter); !fast {
			_, _ = io.WriteString(w, "net/http")
			return
		}
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = io.WriteString(c, "fast")
		_ = c.Close()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 2 * time.Second}
	go func() { _ = Serve(ln, hs) }()
	f.Cleanup(func() { _ = hs.Close() })
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(in); err != nil {
			return // the server may close early on garbage
		}
		_ = c.(*net.TCPConn).CloseWrite()
		out, err := io.ReadAll(c)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("no end to the exchange for %q", in)
			}
			return // a reset: the server closed on unread bytes
		}
		if bytes.Equal(out, []byte("fast")) {
			end := bytes.Index(in, []byte("\r\n\r\n"))
			if !bytes.HasPrefix(in, []byte("GET ")) || end+4 != len(in) {
				t.Fatalf("the shortcut took %q", in)
			}
		}
	})
}
