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

// rawRequest sends head on a new connection and returns the response.
func rawRequest(t *testing.T, addr, head string) (*http.Response, string, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%q: %v", head, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body), c
}

// Heads the shortcut leaves alone get net/http's own answers: bare line
// feeds (served, without waiting for a timeout: the server here has none),
// two Host lines, no Host, an Expect.
func TestUnusualHeadsGoToNetHTTP(t *testing.T) {
	var fast atomic.Int32
	addr := serveNoTimeouts(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(*responseWriter); ok {
			fast.Add(1)
		}
		_, _ = io.WriteString(w, "host "+r.Host)
	}))
	upg := "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	for _, tc := range []struct {
		head   string
		status int
		body   string
	}{
		{"GET / HTTP/1.1\nHost: lf\n\n", 200, "host lf"},
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n" + upg + "\r\n", 400, ""},
		{"GET / HTTP/1.1\r\n" + upg + "\r\n", 400, ""},
		{"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n" + upg + "\r\n", 200, "host x"},
		{"GET / HTTP/1.1\r\nHost: ok\r\n" + upg + "\r\n", 200, "host ok"}, // the shortcut's
	} {
		resp, body, _ := rawRequest(t, addr, tc.head)
		if resp.StatusCode != tc.status || tc.body != "" && body != tc.body {
			t.Fatalf("%q: %d %q, want %d %q", tc.head, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	if fast.Load() != 1 {
		t.Fatalf("the shortcut took %d requests, want 1", fast.Load())
	}
}

// serveNoTimeouts is serve without ReadHeaderTimeout.
func serveNoTimeouts(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	go func() { _ = Serve(ln, hs) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// A library that sends its own 101 with WriteHeader, then hijacks (as
// coder/websocket does), gets that 101 out with its headers.
func TestWriteHeaderThenHijack(t *testing.T) {
	addr, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("X-Lib", "own")
		w.WriteHeader(http.StatusSwitchingProtocols)
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = brw.WriteString("after")
		_ = brw.Flush()
		_ = c.Close()
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	if resp.StatusCode != 101 || resp.Header.Get("X-Lib") != "own" || resp.Header.Get("Connection") != "Upgrade" ||
		resp.Header.Get("Content-Length") != "" || string(rest) != "after" {
		t.Fatalf("%d %v, then %q", resp.StatusCode, resp.Header, rest)
	}
}

// hs.Close ends a connection whose head is still being read (the server
// has no read timeout), as net/http ends its idle connections, and a head
// that completes after Shutdown is not served.
func TestCloseEndsHeadReads(t *testing.T) {
	var served atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) })}
	done := make(chan error, 1)
	go func() { done <- Serve(ln, hs) }()
	var cs [2]net.Conn
	for i := range cs {
		if cs[i], err = net.Dial("tcp", ln.Addr().String()); err != nil {
			t.Fatal(err)
		}
		defer cs[i].Close()
		io.WriteString(cs[i], "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n")
	}
	time.Sleep(50 * time.Millisecond) // the head reads are under way
	_ = hs.Close()
	<-done
	io.WriteString(cs[1], "Upgrade: websocket\r\n\r\n") // completes too late
	for i, c := range cs {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Fatalf("connection %d, read after Close: %v, want it closed", i, err)
		}
	}
	if served.Load() != 0 {
		t.Fatal("a request was served after Close")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// A head that never completes is closed at the first header timeout: it is
// not handed to net/http for a second one.
func TestHeadTimeoutNotHandedOver(t *testing.T) {
	var seen atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{ReadHeaderTimeout: 100 * time.Millisecond,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				seen.Add(1)
			}
		}}
	go func() { _ = Serve(ln, hs) }()
	defer hs.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\n")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("read: %v, want the connection closed", err)
	}
	if seen.Load() != 0 {
		t.Fatal("the stalled connection was handed to net/http")
	}
}

// The request's context carries BaseContext's values and ends when the
// handler returns, as net/http's; 204 gets no body and no length.
func TestContextAndStatus(t *testing.T) {
	type key struct{}
	ctxs := make(chan context.Context, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		BaseContext: func(net.Listener) context.Context { return context.WithValue(context.Background(), key{}, "base") },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctxs <- r.Context()
			w.WriteHeader(http.StatusNoContent)
			if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic(fmt.Sprintf("Write after 204: %v", err))
			}
		}),
	}
	go func() { _ = Serve(ln, hs) }()
	defer hs.Close()
	resp, body, _ := rawRequest(t, ln.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	ctx := <-ctxs
	if resp.StatusCode != 204 || body != "" || resp.Header.Get("Content-Length") != "" {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, body)
	}
	if ctx.Value(key{}) != "base" || ctx.Value(http.ServerContextKey) != hs {
		t.Fatal("the request context lacks BaseContext's or net/http's values")
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the request context did not end with the handler")
	}
}

// prefixConn keeps ReadFrom, CloseWrite and SyscallConn, the last only
// once the replayed bytes are read.
func TestPrefixConnMethods(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(c, c)
			c.Close()
		}
	}()
	tc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	c := newPrefixConn(tc, []byte("pre"))
	if _, err := c.SyscallConn(); err == nil {
		t.Fatal("raw access while replayed bytes are pending")
	}
	buf := make([]byte, 8)
	if n, _ := c.Read(buf); string(buf[:n]) != "pre" {
		t.Fatalf("first read %q", buf[:n])
	}
	if _, err := c.SyscallConn(); err != nil {
		t.Fatalf("SyscallConn after the replay: %v", err)
	}
	if _, err := c.ReadFrom(strings.NewReader("echo")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(c); err != nil || string(got) != "echo" {
		t.Fatalf("echo %q, %v", got, err)
	}
}
