package client_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
	"github.com/sockio/sockio/client/webtransport"
	sockiowt "github.com/sockio/sockio/engineio/webtransport"
)

// wtTarget is sockio in-process with WebTransport: polling and WebSocket
// over TCP, WebTransport over UDP, on the same port of 127.0.0.1.
type wtTarget struct {
	url  string
	udp  net.PacketConn
	hash [32]byte
	cert *x509.Certificate
}

func newWTTarget(t *testing.T, opts sockio.Options, setup func(io *sockio.Server)) *wtTarget {
	t.Helper()
	opts.Transports = []string{"polling", "websocket", "webtransport"}
	io := sockio.NewServer(opts)
	setup(io)
	cert, hash, err := sockiowt.SelfSignedCert([]string{"127.0.0.1"}, time.Hour)
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
	mux.Handle("/socket.io/", sockiowt.Handler(io.Engine(), wts))
	served := make(chan struct{})
	go func() { defer close(served); _ = wts.Serve(udp) }()
	hs := httptest.NewUnstartedServer(io)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
		_ = wts.Close()
		_ = udp.Close()
		<-served
	})
	return &wtTarget{url: hs.URL, udp: udp, hash: hash, cert: cert.Leaf}
}

func wtEchoServer(io *sockio.Server) {
	io.OnConnection(func(s *sockio.Socket) {
		s.On("echo", func(v any, ack sockio.Ack) { ack(v) })
		s.On("bin", func(b []byte, ack sockio.Ack) { ack(len(b), b) })
		s.On("hello", func(name string) { _ = s.Emit("hi", "hello "+name) })
		s.On("leave", func() { s.Disconnect() })
	})
}

// TestWebTransport: events both ways, acks, binary and a 100 KB message,
// directly on WebTransport and after an upgrade from polling, with the
// certificate pinned by its hash or trusted through RootCAs.
func TestWebTransport(t *testing.T) {
	srv := newWTTarget(t, sockio.Options{}, wtEchoServer)
	pool := x509.NewCertPool()
	pool.AddCert(srv.cert)
	dialers := map[string]*webtransport.Dialer{
		"hash":    {CertificateHashes: [][32]byte{srv.hash}},
		"rootCAs": {TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	first := true
	for _, ts := range [][]string{{"webtransport"}, {"polling", "webtransport"}} {
		for dname, d := range dialers {
			t.Run(tname(ts)+"/"+dname, func(t *testing.T) {
				// The first run warms the server up (quic-go starts its
				// goroutines on the first connection); the others count.
				leaks := func() {}
				if !first {
					leaks = leakCheck(t)
				}
				first = false
				ctx := timeout(t, 10*time.Second)
				rec := newRecorder()
				s, err := client.Connect(ctx, srv.url, client.Options{Transports: ts, WebTransport: d})
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = s.Close(); leaks() }()
				upgraded := make(chan string, 1)
				s.Manager().On("upgrade", func(tr string) { upgraded <- tr })
				if len(ts) > 1 && s.Manager().Transport() != "webtransport" {
					select {
					case tr := <-upgraded:
						if tr != "webtransport" {
							t.Fatalf("upgraded to %q", tr)
						}
					case <-ctx.Done():
						t.Fatalf("no upgrade; transport %q", s.Manager().Transport())
					}
				}
				if tr := s.Manager().Transport(); tr != "webtransport" {
					t.Fatalf("transport %q", tr)
				}

				s.On("hi", func(msg string) { rec.add("hi:%s", msg) })
				if err := s.Emit("hello", "go"); err != nil {
					t.Fatal(err)
				}
				rec.expect(t, 5*time.Second, "hi:hello go")

				res, err := s.EmitWithAck(ctx, "echo", map[string]any{"a": []any{1, "é"}})
				if err != nil {
					t.Fatal(err)
				}
				if got := res.String(); !jsonEqual(got, `[{"a":[1,"é"]}]`) {
					t.Errorf("echo: %s", got)
				}

				for _, n := range []int{0, 3, 100 << 10} {
					b := bytes.Repeat([]byte{0, 1, 0xff}, n/3+1)[:n]
					res, err := s.EmitWithAck(ctx, "bin", b)
					if err != nil {
						t.Fatal(err)
					}
					var m int
					var back []byte
					if err := res.Decode(0, &m); err != nil {
						t.Fatal(err)
					}
					if err := res.Decode(1, &back); err != nil {
						t.Fatal(err)
					}
					if m != n || !bytes.Equal(back, b) {
						t.Errorf("bin of %d bytes: server saw %d, got %d back", n, m, len(back))
					}
				}

				big := strings.Repeat("λ", 50<<10) // 100 KB of text
				res, err = s.EmitWithAck(ctx, "echo", big)
				if err != nil {
					t.Fatal(err)
				}
				var back string
				if err := res.Decode(0, &back); err != nil || back != big {
					t.Errorf("100 KB text: %d bytes back, %v", len(back), err)
				}
			})
		}
	}
}

// TestWebTransportServerDisconnects: the server's DISCONNECT arrives.
func TestWebTransportServerDisconnects(t *testing.T) {
	srv := newWTTarget(t, sockio.Options{}, wtEchoServer)
	ctx := timeout(t, 10*time.Second)
	rec := newRecorder()
	s, err := client.Connect(ctx, srv.url, client.Options{Transports: []string{"webtransport"}, WebTransport: &webtransport.Dialer{CertificateHashes: [][32]byte{srv.hash}}})
	if err != nil {
		t.Fatal(err)
	}
	s.On("disconnect", func(reason string) { rec.add("disconnect:%s", reason) })
	if err := s.Emit("leave"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, 5*time.Second, "disconnect:"+client.ReasonIOServerDisconnect)
	_ = s.Close()
}

// TestWebTransportClientCloses: Close's DISCONNECT arrives before the
// session ends (FIN first, then the session).
func TestWebTransportClientCloses(t *testing.T) {
	reasons := make(chan string, 1)
	srv := newWTTarget(t, sockio.Options{}, func(io *sockio.Server) {
		io.OnConnection(func(s *sockio.Socket) { s.OnDisconnect(func(reason string) { reasons <- reason }) })
	})
	ctx := timeout(t, 10*time.Second)
	s, err := client.Connect(ctx, srv.url, client.Options{Transports: []string{"webtransport"}, WebTransport: &webtransport.Dialer{CertificateHashes: [][32]byte{srv.hash}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	select {
	case r := <-reasons:
		if r != sockio.ReasonClientNamespaceDisconnect {
			t.Errorf("server saw %q, want %q", r, sockio.ReasonClientNamespaceDisconnect)
		}
	case <-ctx.Done():
		t.Fatal("the server saw no disconnect")
	}
}

// TestWebTransportServerDies: a server gone silent (its UDP socket closed
// under it: not even a QUIC close arrives) is found by the heartbeat.
func TestWebTransportServerDies(t *testing.T) {
	srv := newWTTarget(t, sockio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, wtEchoServer)
	ctx := timeout(t, 10*time.Second)
	rec := newRecorder()
	s, err := client.Connect(ctx, srv.url, client.Options{Transports: []string{"webtransport"}, DisableReconnection: true, WebTransport: &webtransport.Dialer{CertificateHashes: [][32]byte{srv.hash}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.On("disconnect", func(reason string) { rec.add("disconnect:%s", reason) })
	// Alive past a few heartbeats: the client answers the pings.
	if _, err := s.EmitWithAck(ctx, "echo", 1); err != nil {
		t.Fatal(err)
	}
	rec.none(t, 500*time.Millisecond)
	_ = srv.udp.Close()
	rec.expect(t, 5*time.Second, "disconnect:ping timeout")
}

// TestWebTransportRefusals: a dialer is required, and a pin that does not
// match refuses the server.
func TestWebTransportRefusals(t *testing.T) {
	srv := newWTTarget(t, sockio.Options{}, wtEchoServer)
	ctx := timeout(t, 10*time.Second)
	_, err := client.Connect(ctx, srv.url, client.Options{Transports: []string{"webtransport"}, DisableReconnection: true})
	if err == nil || !strings.Contains(err.Error(), "WebTransport dialer") {
		t.Errorf("without a dialer: %v", err)
	}
	wrong := srv.hash
	wrong[0] ^= 1
	_, err = client.Connect(ctx, srv.url, client.Options{Transports: []string{"webtransport"}, DisableReconnection: true, WebTransport: &webtransport.Dialer{CertificateHashes: [][32]byte{wrong}}})
	if err == nil || !strings.Contains(err.Error(), "matches no CertificateHashes") {
		t.Errorf("with a wrong pin: %v", err)
	}
}
