package metrics_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
	"github.com/sockio/sockio/metrics"
)

// node is a sockio server with its metrics, served over loopback HTTP.
type node struct {
	io   *sockio.Server
	http *httptest.Server
}

func newNode(t *testing.T, opts sockio.Options, mopts metrics.Options, setup func(io *sockio.Server)) *node {
	t.Helper()
	io := sockio.NewServer(opts)
	if setup != nil {
		setup(io)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.New(io, mopts))
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.PanicOnError}))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
	})
	return &node{io: io, http: hs}
}

// scrape reads /metrics as a client would, and returns the text and each
// series' value by its name and labels as the text format writes them.
func (n *node) scrape(t *testing.T) (string, map[string]float64) {
	t.Helper()
	res, err := http.Get(n.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v\n%s", res.StatusCode, err, body)
	}
	values := make(map[string]float64)
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: bad line %q", line)
		}
		values[line[:i]] = v
	}
	return string(body), values
}

// series names a series as the text format writes it: labels sorted by
// name (le last), values escaped.
func series(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	type pair struct{ k, v string }
	var ps []pair
	for i := 0; i < len(labels); i += 2 {
		ps = append(ps, pair{labels[i], labels[i+1]})
	}
	// Sorted by name, but a bucket's le comes last.
	sort.Slice(ps, func(i, j int) bool { return (ps[i].k < ps[j].k || ps[j].k == "le") && ps[i].k != "le" })
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	var b strings.Builder
	b.WriteString(name + "{")
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, p.k, esc.Replace(p.v))
	}
	b.WriteByte('}')
	return b.String()
}

// want waits until every series has its value (metrics move as the
// server gets to the packets), failing with what the last scrape said.
func (n *node) want(t *testing.T, expect map[string]float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, got := n.scrape(t)
		var wrong []string
		for k, v := range expect {
			have, ok := got[k]
			if !ok || have != v {
				wrong = append(wrong, fmt.Sprintf("%s = %v (present %v), want %v", k, have, ok, v))
			}
		}
		if len(wrong) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			sort.Strings(wrong)
			t.Fatalf("metrics:\n%s", strings.Join(wrong, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func connect(t *testing.T, url string, opts client.Options) *client.Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, url, opts)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Real clients (package client) over both transports: the counters move
// as the traffic says, and nothing names a socket or a room.
func TestCollectorCountsClientTraffic(t *testing.T) {
	var mu sync.Mutex
	byAuth := map[string]*sockio.Socket{}
	n := newNode(t, sockio.Options{}, metrics.Options{Events: []string{"echo"}}, func(io *sockio.Server) {
		io.OnConnection(func(s *sockio.Socket) {
			s.Join("room-secret")
			if m, ok := s.Handshake().Auth["name"].(string); ok {
				mu.Lock()
				byAuth[m] = s
				mu.Unlock()
			}
			s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
			s.On("note", func(string) {})
			s.Use(func(e *sockio.Event) error {
				if e.Name == "forbidden" {
					return errors.New("no")
				}
				return nil
			})
		})
		io.Of("/admin").Use(func(s *sockio.Socket) error {
			if s.Handshake().Auth["token"] != "ok" {
				return errors.New("not allowed")
			}
			return nil
		})
	})
	base := n.http.URL
	_, before := n.scrape(t)
	if before[series("sockio_engine_clients", "transport", "websocket")] != 0 || before[series("sockio_socket_connections_total", "namespace", "/")] != 0 {
		t.Fatalf("a fresh server counts something: %v", before)
	}

	ws := connect(t, base+"/", client.Options{Transports: []string{client.WebSocket}, Auth: map[string]any{"name": "ws"}})
	poll := connect(t, base+"/", client.Options{Transports: []string{client.Polling}, Auth: map[string]any{"name": "poll"}})
	n.want(t, map[string]float64{
		series("sockio_engine_clients", "transport", "websocket"):            1,
		series("sockio_engine_clients", "transport", "polling"):              1,
		series("sockio_engine_connections_total", "transport", "websocket"):  1,
		series("sockio_engine_connections_total", "transport", "polling"):    1,
		series("sockio_sockets", "namespace", "/", "transport", "websocket"): 1,
		series("sockio_sockets", "namespace", "/", "transport", "polling"):   1,
		series("sockio_socket_connections_total", "namespace", "/"):          2,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 5 {
		if _, err := ws.EmitWithAck(ctx, "echo", i); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := poll.Emit("note", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := poll.Emit("forbidden"); err != nil {
		t.Fatal(err)
	}
	got := n.want(t, map[string]float64{
		series("sockio_events_received_total", "namespace", "/", "event", "echo"):                               5,
		series("sockio_events_received_total", "namespace", "/", "event", metrics.OtherEvent):                   4,
		series("sockio_event_handler_duration_seconds_count", "namespace", "/", "event", "echo"):                5,
		series("sockio_event_handler_duration_seconds_bucket", "namespace", "/", "event", "echo", "le", "+Inf"): 5,
		series("sockio_acks_sent_total", "namespace", "/"):                                                      5,
		series("sockio_middleware_rejections_total", "namespace", "/", "kind", "event"):                         1,
		series("sockio_middleware_rejections_total", "namespace", "/", "kind", "connect"):                       0,
	})
	if v := got[series("sockio_engine_packets_received_total")]; v < 9 {
		t.Errorf("packets received %v, want at least the 9 events", v)
	}
	if v := got[series("sockio_engine_received_bytes_total")]; v < float64(9*len(`42["note","x"]`)) {
		t.Errorf("bytes received %v", v)
	}
	if got[series("sockio_engine_packets_sent_total")] < 5 || got[series("sockio_engine_sent_bytes_total")] <= got[series("sockio_engine_packets_sent_total")] {
		t.Errorf("sent: %v packets, %v bytes", got[series("sockio_engine_packets_sent_total")], got[series("sockio_engine_sent_bytes_total")])
	}
	if got[series("sockio_engine_polling_requests_total", "method", "GET")] < 1 || got[series("sockio_engine_polling_requests_total", "method", "POST")] < 2 { // the CONNECT, then the events (batched)
		t.Errorf("polling requests: %v GET, %v POST", got[series("sockio_engine_polling_requests_total", "method", "GET")], got[series("sockio_engine_polling_requests_total", "method", "POST")])
	}

	// Acknowledgements the server asks for: one answered, one not.
	ws.On("ask", func(ack client.Ack) { ack("yes") })
	mu.Lock()
	sws := byAuth["ws"]
	mu.Unlock()
	if _, err := sws.Timeout(5*time.Second).EmitWithAck(ctx, "ask"); err != nil {
		t.Fatal(err)
	}
	if _, err := sws.Timeout(100*time.Millisecond).EmitWithAck(ctx, "unanswered"); !errors.Is(err, sockio.ErrTimeout) {
		t.Fatalf("unanswered ack: %v", err)
	}
	n.want(t, map[string]float64{
		series("sockio_ack_requests_total", "namespace", "/"):         2,
		series("sockio_acks_received_total", "namespace", "/"):        1,
		series("sockio_ack_timeouts_total", "namespace", "/"):         1,
		series("sockio_ack_duration_seconds_count", "namespace", "/"): 1,
	})

	// Refused connections: by a middleware, and for a namespace nobody has.
	m, err := client.NewManager(base, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var ce *client.ConnectError
	if err := m.Socket("/admin", client.SocketOptions{Auth: map[string]any{"token": "bad"}}).Connect(ctx); !errors.As(err, &ce) {
		t.Fatalf("admin: %v", err)
	}
	if err := m.Socket("/nope", client.SocketOptions{}).Connect(ctx); !errors.As(err, &ce) {
		t.Fatalf("nope: %v", err)
	}
	n.want(t, map[string]float64{
		series("sockio_middleware_rejections_total", "namespace", "/admin", "kind", "connect"): 1,
		series("sockio_invalid_namespace_total"):                                               1,
	})

	// Leaving: the socket's reason, then the connection's.
	_ = ws.Close()
	n.want(t, map[string]float64{
		series("sockio_socket_disconnections_total", "namespace", "/", "reason", "client_namespace_disconnect"): 1,
		series("sockio_sockets", "namespace", "/", "transport", "websocket"):                                    0,
		series("sockio_engine_clients", "transport", "websocket"):                                               0,
	})

	text, _ := n.scrape(t)
	for _, secret := range []string{"room-secret", sws.ID(), sws.Client().Conn().ID(), poll.ID()} {
		if strings.Contains(text, secret) {
			t.Errorf("the metrics name %q", secret)
		}
	}
}

// A polling client upgrades to WebSocket.
func TestCollectorCountsUpgrades(t *testing.T) {
	n := newNode(t, sockio.Options{}, metrics.Options{}, nil)
	connect(t, n.http.URL+"/", client.Options{})
	n.want(t, map[string]float64{
		series("sockio_engine_upgrades_total"):                               1,
		series("sockio_engine_clients", "transport", "websocket"):            1,
		series("sockio_engine_clients", "transport", "polling"):              0,
		series("sockio_engine_connections_total", "transport", "polling"):    1,
		series("sockio_sockets", "namespace", "/", "transport", "websocket"): 1,
	})
}

// raw is a polling session driven by hand: a client that stops polling.
type raw struct {
	t    *testing.T
	base string
	sid  string
}

func (r *raw) do(method, body string) string {
	r.t.Helper()
	u := r.base + "/socket.io/?EIO=4&transport=polling"
	if r.sid != "" {
		u += "&sid=" + r.sid
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		r.t.Fatalf("%s: %d %s", method, res.StatusCode, b)
	}
	return string(b)
}

func openRaw(t *testing.T, base, connect string) (*raw, string) {
	t.Helper()
	r := &raw{t: t, base: base}
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(r.do("GET", ""), "0")), &open); err != nil {
		t.Fatal(err)
	}
	r.sid = open.SID
	r.do("POST", connect)
	answer := r.do("GET", "")
	m := regexp.MustCompile(`"sid":"([^"]+)"`).FindStringSubmatch(answer)
	if m == nil {
		t.Fatalf("connect answer %q", answer)
	}
	return r, m[1]
}

// A client that stops polling: a volatile emit is dropped, then its queue
// fills up and it is disconnected as a slow consumer; the queue gauges
// show what waits meanwhile.
func TestCollectorCountsSlowConsumer(t *testing.T) {
	n := newNode(t, sockio.Options{MaxBufferedPackets: 32}, metrics.Options{}, nil)
	_, id := openRaw(t, n.http.URL, "40")
	if err := n.io.To(id).Volatile().Emit("v", 1); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_ = n.io.To(id).Emit("e", "0123456789")
	}
	got := n.want(t, map[string]float64{
		series("sockio_engine_volatile_drops_total"):                            1,
		series("sockio_engine_send_queue_packets"):                              10,
		series("sockio_engine_send_queue_max_packets"):                          10,
		series("sockio_engine_disconnections_total", "reason", "slow_consumer"): 0,
	})
	if v := got[series("sockio_engine_send_queue_bytes")]; v != 10*float64(len(`2["e","0123456789"]`)+1) {
		t.Errorf("queued bytes %v", v)
	}
	for range 30 {
		_ = n.io.To(id).Emit("e", "0123456789")
	}
	n.want(t, map[string]float64{
		series("sockio_engine_disconnections_total", "reason", "slow_consumer"):                   1,
		series("sockio_socket_disconnections_total", "namespace", "/", "reason", "slow_consumer"): 1,
		series("sockio_engine_send_queue_packets"):                                                0,
		series("sockio_engine_clients", "transport", "polling"):                                   0,
	})
}

// Connection-state recovery: a client whose connection dropped comes back
// with its session; one that presents an unknown session is a miss.
func TestCollectorCountsRecovery(t *testing.T) {
	n := newNode(t, sockio.Options{ConnectionStateRecovery: &sockio.RecoveryOptions{}}, metrics.Options{}, func(io *sockio.Server) {
		io.OnConnection(func(s *sockio.Socket) {
			s.On("drop", func() { s.Client().Conn().Close() }) // "forced close": kept for recovery
		})
	})
	s, err := client.New(n.http.URL+"/", client.Options{Transports: []string{client.WebSocket}, ReconnectionDelay: 50 * time.Millisecond, RandomizationFactor: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	got := make(chan struct{}, 1)
	s.On("hello", func(int) { got <- struct{}{} })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.io.Emit("hello", 1); err != nil { // gives the client an offset
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("no hello")
	}
	if err := s.Emit("drop"); err != nil {
		t.Fatal(err)
	}
	n.want(t, map[string]float64{
		series("sockio_recovery_attempts_total", "namespace", "/"):                               1,
		series("sockio_recovery_successes_total", "namespace", "/"):                              1,
		series("sockio_recovery_misses_total", "namespace", "/"):                                 0,
		series("sockio_socket_disconnections_total", "namespace", "/", "reason", "forced_close"): 1,
		series("sockio_engine_disconnections_total", "reason", "forced_close"):                   1,
		series("sockio_sockets", "namespace", "/", "transport", "websocket"):                     1,
	})
	if !s.Recovered() {
		t.Error("the client was not recovered")
	}
	openRaw(t, n.http.URL, `40{"pid":"unknown","offset":"0-1"}`)
	n.want(t, map[string]float64{
		series("sockio_recovery_attempts_total", "namespace", "/"): 2,
		series("sockio_recovery_misses_total", "namespace", "/"):   1,
	})
}

// The children of a parent namespace are one series, under the parent's
// pattern: clients name children, and must not grow the label set.
func TestCollectorDynamicNamespaces(t *testing.T) {
	n := newNode(t, sockio.Options{}, metrics.Options{}, func(io *sockio.Server) {
		io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	})
	m, err := client.NewManager(n.http.URL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{"/dyn-1", "/dyn-22", "/dyn-333"} {
		if err := m.Socket(name, client.SocketOptions{}).Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n.want(t, map[string]float64{
		series("sockio_socket_connections_total", "namespace", `^/dyn-\d+$`): 3,
	})
	text, _ := n.scrape(t)
	if strings.Contains(text, "dyn-22") {
		t.Error("a child namespace has a series of its own")
	}
}
