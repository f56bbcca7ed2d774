package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"

	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/engineio/packet"
	sockiowt "github.com/sockio/sockio/engineio/webtransport"
)

// wtServer is sockio's Engine.IO server with polling on TCP and
// WebTransport on UDP, both on the same port of 127.0.0.1, as a client
// that upgrades expects.
type wtServer struct {
	engine *engineio.Server
	url    *url.URL
	udp    net.PacketConn
	dial   WebTransportDialFunc
}

func newWTServer(t *testing.T, opts engineio.Options, setup func(*engineio.Session)) *wtServer {
	t.Helper()
	opts.Transports = []string{engineio.Polling, engineio.WebSocket, engineio.WebTransport}
	engine := engineio.NewServer(opts)
	engine.OnConnection(setup)
	cert, _, err := sockiowt.SelfSignedCert([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	var udp net.PacketConn
	for range 10 { // the UDP port may be taken; another TCP port then
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if udp, err = net.ListenPacket("udp", ln.Addr().String()); err == nil {
			break
		}
		ln.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	wts := &wt.Server{H3: &http3.Server{
		TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
		Handler:   mux,
	}}
	mux.Handle("/engine.io/", sockiowt.Handler(engine, wts))
	served := make(chan struct{})
	go func() { defer close(served); _ = wts.Serve(udp) }()
	hs := httptest.NewUnstartedServer(engine)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = engine.Close(ctx, "")
		hs.Close()
		_ = wts.Close()
		_ = udp.Close()
		<-served
	})
	u, _ := url.Parse(hs.URL + "/engine.io/")
	return &wtServer{engine: engine, url: u, udp: udp, dial: testDialer(pool)}
}

// testDialer opens sessions with webtransport-go, trusting pool. (The
// client's own dialer is client/webtransport, which imports this package
// through package client: a test here cannot use it.)
func testDialer(pool *x509.CertPool) WebTransportDialFunc {
	return func(ctx context.Context, u string, h http.Header) (WebTransportStream, error) {
		tr := &wt.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		_, sess, err := tr.Dial(ctx, u, h)
		if err != nil {
			return nil, err
		}
		st, err := sess.OpenStreamSync(ctx)
		if err != nil {
			_ = sess.CloseWithError(0, "")
			return nil, err
		}
		return testStream{st, sess}, nil
	}
}

type testStream struct {
	*wt.Stream
	sess *wt.Session
}

// Close: FIN, then the session once the server ends it (bounded).
func (s testStream) Close() error {
	err := s.Stream.Close()
	go func() {
		select {
		case <-s.sess.Context().Done():
		case <-time.After(time.Second):
		}
		_ = s.sess.CloseWithError(0, "")
	}()
	return err
}

// waitGoroutines fails t if more goroutines than base remain after 5s.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestWebTransportEcho(t *testing.T) {
	srv := newWTServer(t, engineio.Options{}, func(s *engineio.Session) { s.SetHandler(echoHandler{s}) })
	big := strings.Repeat("x", 100<<10)
	// The first run warms the server up (quic-go starts its goroutines on
	// the first connection): the goroutine count is checked after the others.
	for i, ts := range [][]string{{WebTransport}, {WebTransport}, {Polling, WebTransport}, {Polling, WebTransport, WebSocket}} {
		base := runtime.NumGoroutine()
		got := make(chan msg, 10)
		upgraded := make(chan string, 1)
		closed := make(chan string, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		htr := &http.Transport{}
		c, err := Dial(ctx, Options{URL: srv.url, Transports: ts, HTTPClient: &http.Client{Transport: htr}, DialWebTransport: srv.dial}, Handler{
			OnMessage: func(_ context.Context, data []byte, binary bool) { got <- msg{string(data), binary} },
			OnUpgrade: func(tr string) { upgraded <- tr },
			OnClose:   func(reason string, err error) { closed <- reason + fmt.Sprint(" ", err) },
		})
		if err != nil {
			t.Fatalf("%v: %v", ts, err)
		}
		c.Start()
		if len(ts) > 1 {
			select {
			case tr := <-upgraded:
				if tr != WebTransport || c.Transport() != WebTransport {
					t.Fatalf("%v: upgrade to %q, transport %q", ts, tr, c.Transport())
				}
			case <-ctx.Done():
				t.Fatalf("%v: no upgrade", ts)
			}
		} else if c.Transport() != WebTransport {
			t.Fatalf("transport %q", c.Transport())
		}
		for _, m := range []msg{{"hello", false}, {"\x00\x01\xff", true}, {"", false}, {big, false}, {big, true}, {"é ✓", false}} {
			if err := c.Send(false, packet.Packet{Type: packet.Message, Data: []byte(m.data), Binary: m.binary}); err != nil {
				t.Fatal(err)
			}
			select {
			case g := <-got:
				if g != m {
					t.Errorf("%v: echo of %d bytes (binary %v): got %d bytes (binary %v)", ts, len(m.data), m.binary, len(g.data), g.binary)
				}
			case <-ctx.Done():
				t.Fatalf("%v: no echo", ts)
			}
		}
		c.Close()
		if r := <-closed; r != ReasonForcedClose+" <nil>" {
			t.Errorf("%v: close reason %q", ts, r)
		}
		cancel()
		htr.CloseIdleConnections()
		if i > 0 {
			waitGoroutines(t, base)
		}
	}
}

// TestWebTransportServerCloses: the server's close packet ends the session
// with "transport close", as the reference client reports it.
func TestWebTransportServerCloses(t *testing.T) {
	sessions := make(chan *engineio.Session, 1)
	srv := newWTServer(t, engineio.Options{}, func(s *engineio.Session) { s.SetHandler(echoHandler{s}); sessions <- s })
	closed := make(chan string, 1)
	c, err := Dial(context.Background(), Options{URL: srv.url, Transports: []string{WebTransport}, DialWebTransport: srv.dial}, Handler{
		OnClose: func(reason string, err error) { closed <- reason },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Start()
	s := <-sessions
	if s.Transport() != engineio.WebTransport {
		t.Fatalf("server sees transport %q", s.Transport())
	}
	s.Close()
	select {
	case r := <-closed:
		if r != ReasonTransportClose {
			t.Errorf("close reason %q, want %q", r, ReasonTransportClose)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no close")
	}
}

// TestWebTransportPingTimeout: a server that goes silent (its UDP socket
// closed under it, so nothing more arrives, not even a QUIC close) is
// found out by the heartbeat. Pings are answered before that.
func TestWebTransportPingTimeout(t *testing.T) {
	srv := newWTServer(t, engineio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, func(s *engineio.Session) { s.SetHandler(echoHandler{s}) })
	closed := make(chan string, 1)
	pings := make(chan struct{}, 16)
	c, err := Dial(context.Background(), Options{URL: srv.url, Transports: []string{WebTransport}, DialWebTransport: srv.dial}, Handler{
		OnPing:  func() { pings <- struct{}{} },
		OnClose: func(reason string, err error) { closed <- reason },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Start()
	for range 3 { // the server gets its pongs: it keeps pinging
		select {
		case <-pings:
		case r := <-closed:
			t.Fatalf("closed (%s) while the server is alive", r)
		case <-time.After(5 * time.Second):
			t.Fatal("no ping")
		}
	}
	_ = srv.udp.Close()
	select {
	case r := <-closed:
		if r != ReasonPingTimeout {
			t.Errorf("close reason %q, want %q", r, ReasonPingTimeout)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no close")
	}
}

// TestWebTransportMaxMessageSize: a frame longer than MaxMessageSize is a
// transport error, found from its header, before its payload is read.
func TestWebTransportMaxMessageSize(t *testing.T) {
	srv := newWTServer(t, engineio.Options{}, func(s *engineio.Session) { s.SetHandler(echoHandler{s}) })
	closed := make(chan error, 1)
	got := make(chan string, 4)
	c, err := Dial(context.Background(), Options{URL: srv.url, Transports: []string{WebTransport}, DialWebTransport: srv.dial, MaxMessageSize: 1000}, Handler{
		OnMessage: func(_ context.Context, data []byte, _ bool) { got <- string(data) },
		OnClose: func(reason string, err error) {
			if reason != ReasonTransportError {
				err = fmt.Errorf("reason %q (%v)", reason, err)
			}
			closed <- err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Start()
	small := strings.Repeat("s", 998) // 999 bytes with its type: within the limit
	for _, m := range []string{small, small + "xx"} {
		if err := c.Send(false, packet.Packet{Type: packet.Message, Data: []byte(m)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case g := <-got:
		if g != small {
			t.Fatalf("echo of %d bytes", len(g))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo")
	}
	select {
	case err := <-closed:
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("limit 1000")) {
			t.Errorf("close: %v, want a transport error for the frame over the limit", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no close")
	}
}
