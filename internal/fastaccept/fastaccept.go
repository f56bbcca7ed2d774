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
//
// The shortcut takes only what it is sure to serve as net/http would: a
// complete HTTP/1.1 GET head with CRLF line ends, one valid Host, header
// names and values net/http's server accepts, no body and no Expect, and
// nothing sent after the head. Anything else, and every TLS connection, is
// net/http's, with the bytes already read replayed and the header timeout
// that started at the accept: net/http does not start a second one.
package fastaccept

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sockio/sockio/internal/wsconn"
)

// maxHead bounds the request head the shortcut reads. A longer one (large
// cookies, say) goes to net/http, which answers 431 past hs.MaxHeaderBytes.
// net/http reads up to MaxHeaderBytes + 4 KiB, so the shortcut never
// takes a head that net/http would refuse as too large.
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
// down (then with http.ErrServerClosed). hs's ConnState and ConnContext
// hooks do not see the connections the shortcut takes.
func Serve(ln net.Listener, hs *http.Server) error {
	cl := newChanListener(ln)
	base := context.Background()
	if hs.BaseContext != nil {
		if base = hs.BaseContext(cl); base == nil {
			panic("BaseContext returned a nil context")
		}
	}
	s := &server{hs: hs, cl: cl, base: context.WithValue(base, http.ServerContextKey, hs)}
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
				s.logf("http: Accept error: %v; retrying in %v", err, delay)
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
		go s.serveConn(c)
	}
}

type server struct {
	hs   *http.Server
	cl   *chanListener
	base context.Context // hs.BaseContext's, with http.ServerContextKey
}

// serveConn reads the first request head; an upgrade is served here,
// anything else is passed to net/http with the bytes already read.
func (s *server) serveConn(c net.Conn) {
	if _, ok := c.(*tls.Conn); ok {
		s.cl.hand(c, nil, time.Time{})
		return
	}
	if !s.cl.track(c) { // the server is closing
		_ = c.Close()
		return
	}
	var deadline time.Time // the head's, kept across a hand-over
	if d := s.headTimeout(); d > 0 {
		deadline = time.Now().Add(d)
		_ = c.SetReadDeadline(deadline)
	}
	req, bp, n, err := s.readHead(c)
	s.cl.untrack(c)
	if err != nil || s.cl.closed() {
		// A timeout or a silent peer: net/http would close too, and
		// handing over would give the peer a second header timeout.
		_ = c.Close()
		headPool.Put(bp)
		return
	}
	if req == nil {
		s.cl.hand(c, (*bp)[:n], deadline)
		headPool.Put(bp)
		return
	}
	headPool.Put(bp) // before the handler, which may hold on for the connection's life
	_ = c.SetReadDeadline(time.Time{})
	s.serveUpgrade(c, req)
}

// readHead reads the first request head into a pooled buffer and parses
// it, under the read deadline the caller set. req is nil, with the n
// bytes read in *bp, when the request is not one for the shortcut; err is
// set when nothing can be served (a timeout, or a peer that closed
// without a byte).
func (s *server) readHead(c net.Conn) (req *http.Request, bp *[]byte, n int, err error) {
	bp = headPool.Get().(*[]byte)
	buf := *bp
	end := -1
	for end < 0 && n < len(buf) {
		m, rerr := c.Read(buf[n:])
		if bareLF(buf[:n+m], n) {
			return nil, bp, n + m, nil // net/http accepts it; the shortcut does not try
		}
		n += m
		if n >= 4 && !bytes.HasPrefix(buf[:min(n, 4)], []byte("GET ")) {
			return nil, bp, n, nil
		}
		end = bytes.Index(buf[:n], []byte("\r\n\r\n"))
		if rerr != nil {
			var ne net.Error
			if n == 0 || errors.As(rerr, &ne) && ne.Timeout() {
				return nil, bp, n, rerr
			}
			break
		}
	}
	// Only a complete head with nothing after it: a WebSocket client waits
	// for the 101 before it sends a frame.
	if end < 0 || end+4 != n {
		return nil, bp, n, nil
	}
	p := parserPool.Get().(*parser)
	p.src.Reset(buf[:n])
	p.br.Reset(&p.src)
	r, perr := http.ReadRequest(p.br) // its strings are copies, not views of buf
	p.br.Reset(nil)
	p.src.Reset(nil)
	parserPool.Put(p)
	if perr != nil || !shortcut(r) || hostLines(buf[:end]) != 1 || !validHost(r.Host) || !validHeader(r.Header) {
		return nil, bp, n, nil
	}
	r.RemoteAddr = c.RemoteAddr().String()
	return r, bp, n, nil
}

// bareLF reports whether b, from index from on, holds a line feed not
// preceded by a carriage return.
func bareLF(b []byte, from int) bool {
	for i := from; i < len(b); i++ {
		if b[i] == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

// shortcut: an HTTP/1.1 GET asking for a websocket, with no body and no
// Expect (net/http would answer those itself). The Host is checked by the
// caller: http.ReadRequest removes it from the header.
func shortcut(r *http.Request) bool {
	return r.Method == http.MethodGet && r.ProtoMajor == 1 && r.ProtoMinor == 1 &&
		r.ContentLength == 0 && len(r.TransferEncoding) == 0 && r.Header.Get("Expect") == "" &&
		wsconn.IsUpgrade(r)
}

// hostLines counts the head's Host header lines (net/http refuses a
// request with none or several).
func hostLines(head []byte) int {
	k := 0
	for len(head) > 0 {
		i := bytes.Index(head, []byte("\r\n"))
		if i < 0 {
			i = len(head)
		}
		if line := head[:i]; len(line) >= 5 && bytes.EqualFold(line[:5], []byte("host:")) {
			k++
		}
		head = head[min(i+2, len(head)):]
	}
	return k
}

// validHeader applies the checks net/http's server makes after
// http.ReadRequest, which does not make them: textproto accepts a name
// with a space in it ("X A: 1") for clients' sake, and the server refuses
// it with 400. A head that fails goes to net/http, for that 400.
func validHeader(h http.Header) bool {
	for k, vv := range h {
		if !validFieldName(k) {
			return false
		}
		for _, v := range vv {
			if !validFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// validFieldName: a token (RFC 9110 section 5.1), as httpguts.ValidHeaderFieldName.
func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validFieldValue: no control character but space and tab (RFC 9110
// section 5.5; bytes from 0x80 are obs-text, allowed), as
// httpguts.ValidHeaderFieldValue.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost is a conservative reading of RFC 7230's Host: host or host:port
// of the characters those may hold. Anything unusual goes to net/http.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~:[]%", c) >= 0) {
			return false
		}
	}
	return true
}

// serveUpgrade runs the handler and, unless it hijacked the connection,
// sends what it wrote and closes: a refused upgrade ends the connection.
// The request's context ends when the handler returns, as net/http's.
func (s *server) serveUpgrade(c net.Conn, req *http.Request) {
	ctx, cancel := context.WithCancel(context.WithValue(s.base, http.LocalAddrContextKey, c.LocalAddr()))
	defer cancel()
	req = req.WithContext(ctx)
	w := &responseWriter{c: c, header: http.Header{}, writeTimeout: s.hs.WriteTimeout}
	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			s.logf("http: panic serving %v: %v\n%s", req.RemoteAddr, p, buf)
		}
		if w.hijacked {
			return
		}
		if p == nil { // after a panic, as net/http: no response, just the close
			w.finish()
		}
		_ = c.Close()
	}()
	h := s.hs.Handler
	if h == nil {
		h = http.DefaultServeMux
	}
	h.ServeHTTP(w, req)
}

// headTimeout is net/http's: ReadHeaderTimeout, or ReadTimeout when that
// is zero; no timeout when the result is not positive.
func (s *server) headTimeout() time.Duration {
	if s.hs.ReadHeaderTimeout != 0 {
		return s.hs.ReadHeaderTimeout
	}
	return s.hs.ReadTimeout
}

func (s *server) logf(format string, args ...any) {
	if s.hs.ErrorLog != nil {
		s.hs.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
