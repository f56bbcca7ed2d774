package fastaccept

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// serve starts Serve on a loopback listener with handler h; the cleanup
// shuts the server down and checks that Serve returned ErrServerClosed.
func serve(t *testing.T, h http.Handler) (addr string, hs *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- Serve(ln, hs) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		select {
		case err := <-done:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve: %v, want ErrServerClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return ln.Addr().String(), hs
}

// echoWS upgrades with gorilla and echoes one message, prefixed with what
// the handler saw of the request; fast reports whether the shortcut
// served it.
func echoWS(fast *atomic.Int32) http.HandlerFunc {
	up := websocket.Upgrader{}
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(*responseWriter); ok {
			fast.Add(1)
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		info := fmt.Sprintf("%s %s %s %v|", r.URL.Path, r.URL.Query().Get("q"), r.Header.Get("X-Test"), r.RemoteAddr != "")
		_ = c.WriteMessage(websocket.TextMessage, append([]byte(info), msg...))
	}
}

func TestUpgradeTakesShortcut(t *testing.T) {
	var fast atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/ws", echoWS(&fast))
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "plain "+r.URL.Path) })
	addr, _ := serve(t, mux)

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?q=1", http.Header{"X-Test": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte("hi"))
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "/ws 1 yes true|hi" {
		t.Fatalf("echo %q, %v", msg, err)
	}
	if fast.Load() != 1 {
		t.Fatal("the upgrade did not take the shortcut")
	}

	// A long head goes to net/http, and still upgrades.
	long := http.Header{"X-Test": {strings.Repeat("x", maxHead)}}
	ws2, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?q=2", long)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	_ = ws2.WriteMessage(websocket.TextMessage, []byte("long"))
	if _, msg, err := ws2.ReadMessage(); err != nil || !strings.HasSuffix(string(msg), "|long") || !strings.HasPrefix(string(msg), "/ws 2 xxx") {
		t.Fatalf("echo %.20q, %v", msg, err)
	}
	if fast.Load() != 1 {
		t.Fatal("a head longer than the shortcut's buffer took the shortcut")
	}
}

// Plain requests are net/http's, keep-alive included: two requests on one
// connection, the first of them read by the shortcut before it let go.
func TestPlainRequestsGoToNetHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		_, fast := w.(*responseWriter)
		_, _ = fmt.Fprintf(w, "plain %s %v", r.URL.RawQuery, fast)
	})
	addr, _ := serve(t, mux)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		fmt.Fprintf(c, "GET /plain?%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("plain %d false", i); string(body) != want || resp.Close {
			t.Fatalf("request %d: %q (close %v), want %q and keep-alive", i, body, resp.Close, want)
		}
	}
	// A POST, whose head and body arrive together.
	resp, err := http.Post("http://"+addr+"/plain?post", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "plain post false" {
		t.Fatalf("POST: %q", body)
	}
}

// A refused upgrade gets the handler's response, then the connection ends.
func TestRefusedUpgrade(t *testing.T) {
	var fast atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/ws", echoWS(&fast))
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, strings.Repeat("b", 3*maxHead)) // outgrows the buffer: streamed
	})
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	addr, _ := serve(t, mux)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/ws", http.StatusBadRequest, "Bad Request\n"}, // no key: gorilla refuses
		{"/none", http.StatusNotFound, "404 page not found\n"},
		{"/big", http.StatusTeapot, strings.Repeat("b", 3*maxHead)},
		{"/panic", 0, ""},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n", tc.path)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if tc.status == 0 {
			if err == nil {
				t.Fatalf("%s: a response (%d) from a handler that panicked", tc.path, resp.StatusCode)
			}
			c.Close()
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || string(body) != tc.body || !resp.Close {
			t.Fatalf("%s: %d %.40q (close %v), %v", tc.path, resp.StatusCode, body, resp.Close, err)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("%s: connection left open (%v)", tc.path, err)
		}
		c.Close()
	}
	if fast.Load() != 1 {
		t.Fatalf("the shortcut served %d of the /ws requests, want 1", fast.Load())
	}
}

// Shutdown ends Serve (see serve) and closes the listener; the
// connections' goroutines end with them.
func TestShutdownAndGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	var fast atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: echoWS(&fast)}
	done := make(chan error, 1)
	go func() { done <- Serve(ln, hs) }()
	for i := 0; i < 20; i++ {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte("x"))
		_, _, _ = ws.ReadMessage()
		ws.Close()
	}
	_ = hs.Shutdown(context.Background())
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("the listener still accepts after Shutdown")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("%d goroutines, %d before", n, base)
	}
	if fast.Load() != 20 {
		t.Fatalf("%d of 20 upgrades took the shortcut", fast.Load())
	}
}

// Closing the listener from outside ends Serve with the listener's error.
func TestListenerClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Serve(ln, &http.Server{}) }()
	time.Sleep(10 * time.Millisecond)
	_ = ln.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve: %v, want net.ErrClosed", err)
	}
}
