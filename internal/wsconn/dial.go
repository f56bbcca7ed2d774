package wsconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DialOptions configure Dial.
type DialOptions struct {
	// Header is sent with the handshake request (Origin, cookies, auth).
	Header http.Header
	// Subprotocols offered, in order of preference.
	Subprotocols []string
	// Compression offers permessage-deflate.
	Compression bool
	// CompressionThreshold is the smallest message that is compressed.
	CompressionThreshold int
	// ContextTakeover offers to keep the deflate context between messages
	// both ways (see AcceptOptions.ContextTakeover); without it the offer
	// asks for none.
	ContextTakeover bool
	// ReadLimit bounds one message in bytes (a compressed one once
	// inflated); 0 means no limit for streams and 2 GiB for whole messages.
	ReadLimit int64
	// WriteBufferSize is the largest frame NextWriter cuts a message into;
	// 0 picks 4096.
	WriteBufferSize int
}

// ClientOptions configure DialClient: DialOptions plus the settings of an
// HTTP client, so that a WebSocket reaches the server the same way the
// client's HTTP requests do (the Go client's polling and WebSocket
// transports share one session, cookies included).
type ClientOptions struct {
	DialOptions
	// Jar supplies the handshake's cookies and keeps those its response
	// sets (sticky sessions behind a load balancer rely on it).
	Jar http.CookieJar
	// Proxy returns the proxy for a request (http scheme, reached with
	// CONNECT); nil or a nil URL dials directly.
	Proxy func(*http.Request) (*url.URL, error)
	// TLSClientConfig is used for wss:// URLs; nil takes the defaults.
	TLSClientConfig *tls.Config
	// NetDialContext opens the TCP connection; nil uses a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ErrBadHandshake is wrapped by dial errors when the server's response is
// not a valid WebSocket handshake.
var ErrBadHandshake = errors.New("websocket: bad handshake")

// Dial opens a client connection to urlStr (ws:// or wss://), without a
// proxy. See DialClient.
func Dial(ctx context.Context, urlStr string, opts DialOptions) (*Conn, *http.Response, error) {
	return DialClient(ctx, urlStr, ClientOptions{DialOptions: opts})
}

// DialClient opens a client connection to urlStr (ws:// or wss://) with
// an HTTP client's settings (RFC 6455 4.1). The context bounds the
// handshake only. On a refused handshake the response is returned with the
// error; its body holds the first KiB the server sent (for the error it
// carries) and needs no Close.
func DialClient(ctx context.Context, urlStr string, opts ClientOptions) (*Conn, *http.Response, error) {
	c, resp, err := dialClient(ctx, urlStr, opts)
	if err != nil {
		return nil, resp, fmt.Errorf("failed to dial %s: %w", redactQuery(urlStr), err)
	}
	return c, resp, nil
}

func dialClient(ctx context.Context, urlStr string, opts ClientOptions) (*Conn, *http.Response, error) {
	u, err := url.Parse(urlStr)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse URL: %w", err)
	}
	httpURL := *u
	switch u.Scheme {
	case "ws":
		httpURL.Scheme = "http"
	case "wss":
		httpURL.Scheme = "https"
	default:
		return nil, nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	if u.User != nil {
		return nil, nil, errors.New("user info in the URL is not supported")
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])

	req := &http.Request{
		Method:     http.MethodGet,
		URL:        &httpURL,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       u.Host,
	}
	for k, vs := range opts.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Host":
			if len(vs) > 0 {
				req.Host = vs[0]
			}
			continue
		case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
			"Sec-Websocket-Extensions", "Sec-Websocket-Protocol":
			return nil, nil, fmt.Errorf("header %s is set by the handshake itself", k)
		}
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	if len(opts.Subprotocols) > 0 {
		req.Header.Set("Sec-WebSocket-Protocol", strings.Join(opts.Subprotocols, ", "))
	}
	if opts.Compression {
		req.Header.Set("Sec-WebSocket-Extensions", deflateOffer(opts.ContextTakeover))
	}
	if opts.Jar != nil {
		for _, ck := range opts.Jar.Cookies(&httpURL) {
			req.AddCookie(ck)
		}
	}

	nc, err := openConn(ctx, req, u, opts)
	if err != nil {
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = nc.Close()
		}
	}()
	// The context bounds the handshake: a deadline, and a cut when it ends.
	if d, has := ctx.Deadline(); has {
		_ = nc.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()

	if err := req.Write(nc); err != nil {
		return nil, nil, ctxErr(ctx, fmt.Errorf("failed to write handshake: %w", err))
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, ctxErr(ctx, fmt.Errorf("failed to read handshake response: %w", err))
	}
	if opts.Jar != nil {
		if cks := resp.Cookies(); len(cks) > 0 {
			opts.Jar.SetCookies(&httpURL, cks)
		}
	}
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols,
		!headerHasToken(resp.Header, "Upgrade", "websocket"),
		!headerHasToken(resp.Header, "Connection", "upgrade"),
		resp.Header.Get("Sec-Websocket-Accept") != computeAccept(key):
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, ErrBadHandshake
	}
	resp.Body = http.NoBody
	subprotocol := resp.Header.Get("Sec-Websocket-Protocol")
	if subprotocol != "" && !containsFold(opts.Subprotocols, subprotocol) {
		return nil, resp, fmt.Errorf("%w: server chose subprotocol %q, not offered", ErrBadHandshake, subprotocol)
	}
	var params deflateParams
	deflateOK := false
	if opts.Compression {
		if params, deflateOK, err = acceptDeflateResponse(resp.Header); err != nil {
			return nil, resp, fmt.Errorf("%w: %w", ErrBadHandshake, err)
		}
	} else if len(resp.Header.Values("Sec-Websocket-Extensions")) > 0 {
		return nil, resp, fmt.Errorf("%w: server chose extensions, none offered", ErrBadHandshake)
	}
	if !stop() {
		return nil, resp, ctx.Err()
	}
	_ = nc.SetDeadline(time.Time{})

	c := newConn(nc, true, subprotocol, opts.ReadLimit, opts.WriteBufferSize)
	if deflateOK {
		c.defl = newDeflate(params, true)
		c.threshold = opts.CompressionThreshold
	}
	if n := br.Buffered(); n > 0 {
		// Frames that came with the response.
		if n > readBufSize {
			return nil, resp, fmt.Errorf("%w: %d bytes after the response", ErrBadHandshake, n)
		}
		fr := c.rr
		fr.buf = readBufPool.Get().(*[]byte)
		peeked, _ := br.Peek(n)
		fr.w = copy(*fr.buf, peeked)
		fr.held.Store(int64(fr.w))
	}
	ok = true
	return c, resp, nil
}

// openConn opens the connection the handshake goes on: TCP, through a
// proxy's CONNECT if one applies, then TLS for wss.
func openConn(ctx context.Context, req *http.Request, u *url.URL, opts ClientOptions) (net.Conn, error) {
	dial := opts.NetDialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	addr := hostPort(u)
	var proxyURL *url.URL
	if opts.Proxy != nil {
		var err error
		if proxyURL, err = opts.Proxy(req); err != nil {
			return nil, fmt.Errorf("failed to choose a proxy: %w", err)
		}
	}
	var nc net.Conn
	var err error
	if proxyURL != nil {
		nc, err = connectProxy(ctx, dial, proxyURL, addr)
	} else {
		nc, err = dial(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	if u.Scheme != "wss" {
		return nc, nil
	}
	cfg := &tls.Config{}
	if opts.TLSClientConfig != nil {
		cfg = opts.TLSClientConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("failed TLS handshake: %w", err)
	}
	return tc, nil
}

// connectProxy opens a tunnel to addr through an HTTP proxy.
func connectProxy(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), proxy *url.URL, addr string) (net.Conn, error) {
	if proxy.Scheme != "http" {
		return nil, fmt.Errorf("unsupported proxy scheme %q", proxy.Scheme)
	}
	nc, err := dial(ctx, "tcp", hostPort(proxy))
	if err != nil {
		return nil, fmt.Errorf("failed to reach proxy: %w", err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if p := proxy.User; p != nil {
		pw, _ := p.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.Username()+":"+pw)))
	}
	fail := func(err error) (net.Conn, error) {
		_ = nc.Close()
		return nil, ctxErr(ctx, err)
	}
	if err := req.Write(nc); err != nil {
		return fail(fmt.Errorf("failed to write CONNECT: %w", err))
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail(fmt.Errorf("failed to read the proxy's answer: %w", err))
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("proxy refused CONNECT: %s", resp.Status))
	}
	if br.Buffered() > 0 {
		return fail(errors.New("proxy sent bytes before the tunnel was used"))
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch u.Scheme {
	case "wss", "https":
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// ctxErr prefers the context's error when it ended the handshake.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// redactQuery drops the query from an URL put in an error: it may carry
// tokens (Socket.IO clients pass auth in the query).
func redactQuery(urlStr string) string {
	if i := strings.IndexByte(urlStr, '?'); i >= 0 {
		return urlStr[:i]
	}
	return urlStr
}
