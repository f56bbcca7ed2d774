package webtransport

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"

	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"

	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/engineio/packet"
)

// recorder is an engineio.Handler that records what reaches it.
type recorder struct {
	s      *engineio.Session
	msgs   chan packet.Packet
	closed chan string
}

func (r *recorder) OnMessage(data []byte, binary bool) {
	r.msgs <- packet.Packet{Type: packet.Message, Data: bytes.Clone(data), Binary: binary}
}
func (r *recorder) OnClose(reason string, err error) { r.closed <- reason }

// fixture is an engine served over HTTP/1.1 (polling) and over HTTP/3 on
// 127.0.0.1 UDP (WebTransport), with a client transport trusting its cert.
type fixture struct {
	engine *engineio.Server
	https  *httptest.Server // polling over TCP
	wtURL  string
	dialer *wt.Transport
	recs   chan *recorder
}

func newFixture(t *testing.T, opts engineio.Options) *fixture {
	t.Helper()
	engine := engineio.NewServer(opts)
	recs := make(chan *recorder, 16)
	engine.OnConnection(func(s *engineio.Session) {
		r := &recorder{s: s, msgs: make(chan packet.Packet, 64), closed: make(chan string, 1)}
		s.SetHandler(r)
		recs <- r
	})
	cert, _, err := SelfSignedCert([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	server := &wt.Server{H3: &http3.Server{
		TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
		Handler:   mux,
	}}
	mux.Handle("/engine.io/", Handler(engine, server))
	served := make(chan struct{})
	go func() { defer close(served); _ = server.Serve(udp) }()
	https := httptest.NewServer(engine)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	dialer := &wt.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, NextProtos: []string{http3.NextProtoH3}}, QUICConfig: &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = engine.Close(ctx, "")
		https.Close()
		_ = dialer.Close()
		_ = server.Close()
		_ = udp.Close()
		<-served
	})
	return &fixture{engine: engine, https: https, wtURL: "https://" + udp.LocalAddr().String() + "/engine.io/?EIO=4&transport=webtransport", dialer: dialer, recs: recs}
}

// client is the client side of one WebTransport session.
type client struct {
	t    *testing.T
	sess *wt.Session
	st   *wt.Stream
	rd   *packet.StreamReader
}

func (f *fixture) dial(t *testing.T) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rsp, sess, err := f.dialer.Dial(ctx, f.wtURL, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, rsp)
	}
	st, err := sess.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.CloseWithError(0, "") })
	return &client{t: t, sess: sess, st: st, rd: packet.NewStreamReader(st, 1<<20)}
}

func (c *client) send(p packet.Packet) {
	c.t.Helper()
	if _, err := c.st.Write(packet.AppendStreamFrame(nil, p)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() (packet.Packet, error) {
	_ = c.st.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := c.rd.Next()
	p.Data = bytes.Clone(p.Data)
	return p, err
}

func (c *client) expect(typ packet.Type, data string) {
	c.t.Helper()
	p, err := c.read()
	if err != nil || p.Type != typ || string(p.Data) != data {
		c.t.Fatalf("read %v %q, %v; want %v %q", p.Type, p.Data, err, typ, data)
	}
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	MaxPayload   int      `json:"maxPayload"`
}

func (c *client) open() openPacket {
	c.t.Helper()
	p, err := c.read()
	if err != nil || p.Type != packet.Open {
		c.t.Fatalf("want the open packet, got %v %q, %v", p.Type, p.Data, err)
	}
	var o openPacket
	if err := json.Unmarshal(p.Data, &o); err != nil {
		c.t.Fatal(err)
	}
	return o
}

func recv[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

var withWT = engineio.Options{Transports: []string{engineio.Polling, engineio.WebSocket, engineio.WebTransport}}

func TestDirectSession(t *testing.T) {
	opts := withWT
	opts.PingInterval, opts.PingTimeout = 300*time.Millisecond, 5*time.Second
	f := newFixture(t, opts)
	c := f.dial(t)
	c.send(packet.Packet{Type: packet.Open})
	o := c.open()
	if o.SID == "" || len(o.Upgrades) != 0 || o.PingInterval != 300 || o.MaxPayload != 1e6 {
		t.Fatalf("open packet %+v", o)
	}
	r := recv(t, f.recs)
	if r.s.ID() != o.SID || r.s.Transport() != engineio.WebTransport || !r.s.Handshake().Secure {
		t.Fatalf("session %s over %s", r.s.ID(), r.s.Transport())
	}
	if q := r.s.Handshake().Query.Get("transport"); q != "webtransport" {
		t.Fatalf("handshake query transport=%q", q)
	}

	c.send(packet.Packet{Type: packet.Message, Data: []byte("héllo")})
	c.send(packet.Packet{Type: packet.Message, Data: []byte{0, 1, 2}, Binary: true})
	if p := recv(t, r.msgs); string(p.Data) != "héllo" || p.Binary {
		t.Fatalf("got %+v", p)
	}
	if p := recv(t, r.msgs); !bytes.Equal(p.Data, []byte{0, 1, 2}) || !p.Binary {
		t.Fatalf("got %+v", p)
	}
	big := bytes.Repeat([]byte{9}, 70000)
	if err := r.s.Send(engineio.SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("back")}, packet.Packet{Type: packet.Message, Data: big, Binary: true}); err != nil {
		t.Fatal(err)
	}
	c.expect(packet.Message, "back")
	if p, err := c.read(); err != nil || !p.Binary || !bytes.Equal(p.Data, big) {
		t.Fatalf("binary back: %d bytes, %v", len(p.Data), err)
	}

	// Heartbeat: the server pings, the client answers, twice.
	for range 2 {
		c.expect(packet.Ping, "")
		c.send(packet.Packet{Type: packet.Pong})
	}
	if st := f.engine.Stats(); st.Sessions[engineio.WebTransport] != 1 || st.Opened[engineio.WebTransport] != 1 {
		t.Fatalf("stats %+v", st)
	}

	// The server closes: what it sent before still arrives, then the end.
	_ = r.s.Send(engineio.SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("last")})
	r.s.Close()
	c.expect(packet.Message, "last")
	if _, err := c.read(); err == nil {
		t.Fatal("stream still open after the server closed the session")
	}
	if reason := recv(t, r.closed); reason != engineio.ReasonForcedClose {
		t.Fatalf("reason %q", reason)
	}
}

func TestClientLeavesAndPingTimeout(t *testing.T) {
	opts := withWT
	opts.PingInterval, opts.PingTimeout = 200*time.Millisecond, 200*time.Millisecond
	f := newFixture(t, opts)

	c := f.dial(t)
	c.send(packet.Packet{Type: packet.Open})
	c.open()
	r := recv(t, f.recs)
	_ = c.sess.CloseWithError(0, "bye")
	if reason := recv(t, r.closed); reason != engineio.ReasonTransportClose {
		t.Fatalf("client left: reason %q", reason)
	}

	c = f.dial(t)
	c.send(packet.Packet{Type: packet.Open})
	c.open()
	r = recv(t, f.recs)
	if reason := recv(t, r.closed); reason != engineio.ReasonPingTimeout { // never answers the ping
		t.Fatalf("silent client: reason %q", reason)
	}
	if f.engine.Count() != 0 {
		t.Fatalf("%d sessions left", f.engine.Count())
	}
}

func TestLimitsAndBadInput(t *testing.T) {
	opts := withWT
	opts.MaxHTTPBufferSize = 1000
	opts.UpgradeTimeout = 300 * time.Millisecond
	f := newFixture(t, opts)

	c := f.dial(t)
	c.send(packet.Packet{Type: packet.Open})
	if o := c.open(); o.MaxPayload != 1000 {
		t.Fatalf("maxPayload %d", o.MaxPayload)
	}
	r := recv(t, f.recs)
	c.send(packet.Packet{Type: packet.Message, Data: bytes.Repeat([]byte("a"), 1000)}) // 1001 with its type
	if reason := recv(t, r.closed); reason != engineio.ReasonTransportError {
		t.Fatalf("too large: reason %q", reason)
	}
	if _, err := c.read(); err == nil {
		t.Fatal("stream open after a frame over the limit")
	}

	c = f.dial(t)
	c.send(packet.Packet{Type: packet.Open})
	c.open()
	r = recv(t, f.recs)
	_, _ = c.st.Write([]byte{0}) // an empty frame: the reference's parse error
	if reason := recv(t, r.closed); reason != engineio.ReasonParseError {
		t.Fatalf("empty frame: reason %q", reason)
	}

	// First packets that open nothing: the session is closed, none made.
	for name, first := range map[string][]byte{
		"message first": packet.AppendStreamFrame(nil, packet.Packet{Type: packet.Message, Data: []byte("x")}),
		"unknown sid":   packet.AppendStreamFrame(nil, packet.Packet{Type: packet.Open, Data: []byte(`{"sid":"nope"}`)}),
		"bad json":      packet.AppendStreamFrame(nil, packet.Packet{Type: packet.Open, Data: []byte(`{"sid":`)}),
		"nothing":       nil, // silent past the upgrade timeout
	} {
		c := f.dial(t)
		if first != nil {
			_, _ = c.st.Write(first)
		} else {
			_, _ = c.st.Write([]byte{0x05}) // half a frame, then silence
		}
		if p, err := c.read(); err == nil {
			t.Fatalf("%s: read %v %q", name, p.Type, p.Data)
		}
	}
	select {
	case r := <-f.recs:
		t.Fatalf("a session was opened: %s", r.s.ID())
	default:
	}
}

func TestRefusedWithoutTheOption(t *testing.T) {
	f := newFixture(t, engineio.Options{}) // polling and websocket only
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rsp, _, err := f.dialer.Dial(ctx, f.wtURL, nil)
	if err == nil || rsp == nil || rsp.StatusCode != http.StatusBadRequest {
		t.Fatalf("dial without the option: %v, %v", rsp, err)
	}
	// And the open packet over polling offers websocket only.
	if o := pollHandshake(t, f); strings.Join(o.Upgrades, ",") != "websocket" {
		t.Fatalf("upgrades %v", o.Upgrades)
	}
	// A webtransport request over HTTP is refused as the reference does.
	res, err := http.Get(f.https.URL + "/engine.io/?EIO=4&transport=webtransport")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(body), `"code":0`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
}

func pollHandshake(t *testing.T, f *fixture) openPacket {
	t.Helper()
	body := poll(t, f, "")
	if !strings.HasPrefix(body, "0") {
		t.Fatalf("handshake %q", body)
	}
	var o openPacket
	if err := json.Unmarshal([]byte(body[1:]), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func poll(t *testing.T, f *fixture, sid string) string {
	t.Helper()
	u := f.https.URL + "/engine.io/?EIO=4&transport=polling"
	if sid != "" {
		u += "&sid=" + sid
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return res.Status + " " + string(b)
	}
	return string(b)
}

func TestUpgradeFromPolling(t *testing.T) {
	f := newFixture(t, withWT)
	o := pollHandshake(t, f)
	if strings.Join(o.Upgrades, ",") != "websocket,webtransport" {
		t.Fatalf("upgrades %v", o.Upgrades)
	}
	r := recv(t, f.recs)

	// A poll waits while the probe runs; the upgrade check lets it go.
	var wg sync.WaitGroup
	var pending string
	wg.Go(func() { pending = poll(t, f, o.SID) })

	c := f.dial(t)
	c.send(packet.Packet{Type: packet.Open, Data: []byte(`{"sid":"` + o.SID + `"}`)})
	c.send(packet.Packet{Type: packet.Ping, Data: []byte("probe")})
	c.expect(packet.Pong, "probe")
	wg.Wait()
	if pending != "6" {
		t.Fatalf("pending poll answered %q, want a noop", pending)
	}
	// A packet sent before the switch goes out once, on the new transport.
	_ = r.s.Send(engineio.SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("during")})
	c.send(packet.Packet{Type: packet.Upgrade})
	c.expect(packet.Message, "during")
	if tr := r.s.Transport(); tr != engineio.WebTransport {
		t.Fatalf("transport %s after the upgrade", tr)
	}
	c.send(packet.Packet{Type: packet.Message, Data: []byte("up")})
	if p := recv(t, r.msgs); string(p.Data) != "up" {
		t.Fatalf("got %q", p.Data)
	}
	if got := poll(t, f, o.SID); !strings.HasPrefix(got, "400") {
		t.Fatalf("poll after the upgrade: %q", got)
	}
	if st := f.engine.Stats(); st.Upgrades != 1 {
		t.Fatalf("upgrades %d", st.Upgrades)
	}

	// A second WebTransport upgrade for the same sid is closed.
	c2 := f.dial(t)
	c2.send(packet.Packet{Type: packet.Open, Data: []byte(`{"sid":"` + o.SID + `"}`)})
	if _, err := c2.read(); err == nil {
		t.Fatal("second upgrade not closed")
	}
	r.s.Close()
	if reason := recv(t, r.closed); reason != engineio.ReasonForcedClose {
		t.Fatalf("reason %q", reason)
	}
}

func TestUpgradeFailsOnOtherPacket(t *testing.T) {
	f := newFixture(t, withWT)
	o := pollHandshake(t, f)
	r := recv(t, f.recs)
	c := f.dial(t)
	c.send(packet.Packet{Type: packet.Open, Data: []byte(`{"sid":"` + o.SID + `"}`)})
	c.send(packet.Packet{Type: packet.Message, Data: []byte("not a probe")})
	if _, err := c.read(); err == nil {
		t.Fatal("probe stream still open")
	}
	// The session goes on over polling.
	_ = r.s.Send(engineio.SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte("still")})
	if got := poll(t, f, o.SID); got != "4still" {
		t.Fatalf("poll %q", got)
	}
	if r.s.Transport() != engineio.Polling || f.engine.Stats().UpgradeFailures != 1 {
		t.Fatal("upgrade not abandoned")
	}
}
