// Package fastaccept serves a listener for an http.Server with one
// shortcut: a connection whose first request asks for a WebSocket upgrade
// is handed to the server's handler without net/http's per-connection
// machinery. Every other connection goes to the http.Server unchanged.
//
// Why: a connection that net/http upgrades costs it a connection object,
// a context, a 4 KiB read buffer and two 4 KiB write buffers, none of which
// it can reuse once the handler hijacks the connection. For a server that
// accepts thousands of WebSocket connections a second that garbage, and
// net/http's serving goroutine growing its stack, were a third of the
// accept profile.
package fastaccept

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
)

// maxHead bounds the request head the shortcut reads. A longer one (large
// cookies, say) goes to net/http, which has its own limit.
const maxHead = 4096

var headPool = sync.Pool{New: func() any { b := make([]byte, maxHead); return &b }}

// parser reads a request head out of a byte slice; pooled, so neither
// the reader nor its buffer is allocated per connection.
type parser struct {
	src bytes.Reader
	br  *bufio.Reader
}

var parserPool = sync.Pool{New: func() any { return &parser{br: bufio.NewReaderSize(nil, maxHead)} }}

// Serve accepts connections on ln and serves hs on them, as hs.Serve(ln)
// does, with the upgrade shortcut. It returns when ln fails or hs is shut
// down (then with http.ErrServerClosed). TLS connections, and
// connections whose first request is not a plain upgrade, are all
// net/http's. hs's ConnState and ConnContext hooks do not see the
// connections the shortcut takes.
func Serve(ln net.Listener, hs *http.Server) error {
	cl := &chanListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(cl) }()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() && !cl.closed() {
				// Out of file descriptors and the like: back off as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			_ = cl.close(false)
			if serr := <-served; cl.closedByServer() {
				return serr
			}
			return err
		}
		delay = 0
		go serveConn(c, hs, cl)
	}
}

// serveConn reads the first request head; an upgrade is served here,
// anything else is passed to net/http with the bytes already read.
func serveConn(c net.Conn, hs *http.Server, cl *chanListener) {
	if _, ok := c.(*tls.Conn); ok {
		cl.hand(c, nil)
		return
	}
	if d := headTimeout(hs); d > 0 {
		_ = c.SetReadDeadline(time.Now().Add(d))
	}
	bp := headPool.Get().(*[]byte)
	buf := *bp
	n, end := 0, -1
	for end < 0 && n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if n >= 4 && !bytes.HasPrefix(buf[:min(n, 4)], []byte("GET ")) {
			break
		}
		end = bytes.Index(buf[:n], []byte("\r\n\r\n"))
		if err != nil {
			break
		}
	}
	// Only a complete head with nothing after it: the client waits for the
	// 101 before it sends a frame.
	if end < 0 || end+4 != n {
		cl.hand(c, buf[:n])
		headPool.Put(bp)
		return
	}
	p := parserPool.Get().(*parser)
	p.src.Reset(buf[:n])
	p.br.Reset(&p.src)
	req, err := http.ReadRequest(p.br) // its strings are copies, not views of buf
	p.br.Reset(nil)
	p.src.Reset(nil)
	parserPool.Put(p)
	if err != nil || !isUpgrade(req) {
		cl.hand(c, buf[:n])
		headPool.Put(bp)
		return
	}
	headPool.Put(bp) // before the handler, which may hold on for the connection's life
	_ = c.SetReadDeadline(time.Time{})
	req.RemoteAddr = c.RemoteAddr().String()
	ctx := context.WithValue(context.Background(), http.ServerContextKey, hs)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.LocalAddr())
	req = req.WithContext(ctx)
	w := &responseWriter{c: c, header: http.Header{}}
	serveUpgrade(hs, w, req)
}

// serveUpgrade runs the handler and, unless it hijacked the connection,
// sends what it wrote and closes: a refused upgrade ends the connection.
func serveUpgrade(hs *http.Server, w *responseWriter, req *http.Request) {
	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			logf(hs, "http: panic serving %v: %v\n%s", req.RemoteAddr, p, buf)
		}
		if w.hijacked {
			return
		}
		if p == nil { // after a panic, as net/http: no response, just the close
			w.finish()
		}
		_ = w.c.Close()
	}()
	h := hs.Handler
	if h == nil {
		h = http.DefaultServeMux
	}
	h.ServeHTTP(w, req)
}

func headTimeout(hs *http.Server) time.Duration {
	if hs.ReadHeaderTimeout > 0 {
		return hs.ReadHeaderTimeout
	}
	return hs.ReadTimeout
}

func logf(hs *http.Server, format string, args ...any) {
	if hs.ErrorLog != nil {
		hs.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// isUpgrade: an HTTP/1.1 GET asking for a websocket, with no body.
func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && r.ProtoAtLeast(1, 1) && r.ContentLength == 0 &&
		len(r.TransferEncoding) == 0 &&
		hasToken(r.Header, "Connection", "upgrade") && hasToken(r.Header, "Upgrade", "websocket")
}

func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// responseWriter is the shortcut's http.ResponseWriter: a handler that
// upgrades hijacks it; one that refuses writes a small response, sent with
// "Connection: close" when the handler returns (or streamed, once it
// outgrows a buffer).
type responseWriter struct {
	c        net.Conn
	header   http.Header
	status   int
	body     []byte
	streamed bool // the head went out; body bytes follow as written
	hijacked bool
	err      error
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 && !w.hijacked {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	w.WriteHeader(http.StatusOK)
	if w.err != nil {
		return 0, w.err
	}
	if !w.streamed && len(w.body)+len(p) <= maxHead {
		w.body = append(w.body, p...)
		return len(p), nil
	}
	if !w.streamed {
		w.streamed = true
		w.send(w.head(-1), w.body)
		w.body = nil
	}
	w.send(p)
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// Hijack hands the connection over. The reader is empty: the shortcut
// only takes a request with nothing after its head.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.status != 0 {
		return nil, nil, errors.New("fastaccept: hijack after the response was started")
	}
	w.hijacked = true
	rw := bufio.NewReadWriter(bufio.NewReaderSize(w.c, 16), bufio.NewWriterSize(w.c, 16))
	return w.c, rw, nil
}

func (w *responseWriter) finish() {
	if w.streamed {
		return
	}
	w.WriteHeader(http.StatusOK)
	w.send(w.head(len(w.body)), w.body)
}

// head renders the status line and headers; n < 0 means no Content-Length
// (the body then ends with the connection).
func (w *responseWriter) head(n int) []byte {
	h := w.header
	if n >= 0 {
		h.Set("Content-Length", fmt.Sprint(n))
	}
	h.Set("Connection", "close")
	if h.Get("Content-Type") == "" && len(w.body) > 0 {
		h.Set("Content-Type", http.DetectContentType(w.body))
	}
	if h.Get("Date") == "" {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %03d %s\r\n", w.status, http.StatusText(w.status))
	_ = h.Write(&b) // net/http's own header rendering and sanitising
	b.WriteString("\r\n")
	return b.Bytes()
}

func (w *responseWriter) send(parts ...[]byte) {
	if w.err != nil {
		return
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	bufs := net.Buffers(parts)
	_, w.err = bufs.WriteTo(w.c)
}

// chanListener is the listener net/http serves: the connections the
// shortcut passes on. Closing it (hs.Shutdown or hs.Close do) closes the
// real listener too, which ends Serve.
type chanListener struct {
	ln       net.Listener
	conns    chan net.Conn
	done     chan struct{}
	once     sync.Once
	byServer bool // closed by hs (Shutdown, Close), not by an accept error
	mu       sync.Mutex
}

// hand passes c to net/http; pre holds bytes already read from it, which
// net/http reads first. pre is copied: the caller reuses its buffer.
func (l *chanListener) hand(c net.Conn, pre []byte) {
	if len(pre) > 0 {
		c = &prefixConn{Conn: c, pre: bytes.Clone(pre)}
	}
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	return l.close(true)
}

func (l *chanListener) close(byServer bool) error {
	err := net.ErrClosed
	l.once.Do(func() {
		l.mu.Lock()
		l.byServer = byServer
		l.mu.Unlock()
		close(l.done)
		err = l.ln.Close()
	})
	return err
}

func (l *chanListener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *chanListener) closedByServer() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byServer
}

func (l *chanListener) Addr() net.Addr { return l.ln.Addr() }

// prefixConn replays bytes already read before reading the connection.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

var _ io.Reader = (*prefixConn)(nil)
