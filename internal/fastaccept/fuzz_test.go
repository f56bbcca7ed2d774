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
// with nothing after it, that net/http alone (the same bytes to a plain
// hs.Serve) serves too rather than refusing.
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
	ref, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	refhs := &http.Server{Handler: h, ReadHeaderTimeout: 2 * time.Second}
	go func() { _ = refhs.Serve(ref) }()
	f.Cleanup(func() { _ = refhs.Close() })
	f.Fuzz(func(t *testing.T, in []byte) {
		out, ok := exchange(t, ln.Addr().String(), in)
		if !ok || !bytes.Equal(out, []byte("fast")) {
			return
		}
		end := bytes.Index(in, []byte("\r\n\r\n"))
		if !bytes.HasPrefix(in, []byte("GET ")) || end+4 != len(in) {
			t.Fatalf("the shortcut took %q", in)
		}
		if out, ok := exchange(t, ref.Addr().String(), in); ok && !bytes.HasPrefix(out, []byte("HTTP/1.1 200 ")) {
			t.Fatalf("the shortcut took %q, which net/http answers %.40q", in, out)
		}
	})
}

// exchange sends in on a new connection, half-closes, and reads the
// answer to the end; ok is false when the server reset the connection.
func exchange(t *testing.T, addr string, in []byte) (out []byte, ok bool) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(in); err != nil {
		return nil, false // the server may close early on garbage
	}
	_ = c.(*net.TCPConn).CloseWrite()
	out, err = io.ReadAll(c)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("no end to the exchange for %q", in)
		}
		return nil, false // a reset: the server closed on unread bytes
	}
	return out, true
}
