package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
	"github.com/sockio/sockio/parser"
)

// logBuffer collects log lines for tests that check what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// node is one sockio server of a test cluster on a broker.
type node struct {
	name string
	srv  *sockio.Server
	hs   *httptest.Server
	log  *logBuffer

	mu     sync.Mutex
	events []string // server-side events received: "name args"
	closed bool
}

func (n *node) adapter() *Adapter { return n.srv.Of("/").Adapter().(*Adapter) }

func (n *node) url() string { return n.hs.URL }

func (n *node) close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.srv.Close(ctx)
	n.hs.Close()
}

func (n *node) serverEvents() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.events...)
}

// fastHeartbeats make the live-node list react within a test's patience.
var fastHeartbeats = Options{HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: 300 * time.Millisecond}

// startNode starts a sockio server on broker b, whose sockets join the
// rooms asked with a "join" event, keep their client's name as data, and
// answer "echo". recovery turns connection-state recovery on.
func startNode(t testing.TB, name string, b Broker, opts Options, recovery bool) *node {
	t.Helper()
	n := &node{name: name, log: &logBuffer{}}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(n.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	so := sockio.Options{Adapter: NewAdapter(b, opts)}
	if recovery {
		so.ConnectionStateRecovery = &sockio.RecoveryOptions{MaxDisconnectionDuration: time.Minute}
	}
	n.srv = sockio.NewServer(so)
	n.srv.OnConnection(func(s *sockio.Socket) {
		if !s.Recovered() {
			s.SetData(map[string]any{"name": s.Handshake().Auth["name"], "node": name})
		}
		s.On("join", func(room string) { s.Join(room) })
		s.On("leave", func(room string) { s.Leave(room) })
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
	})
	n.srv.Of("/").OnServerSideEmit(func(e *sockio.Event) {
		var parts []string
		for i := range e.Args.Len() {
			parts = append(parts, string(e.Args.Raw(i)))
		}
		n.mu.Lock()
		n.events = append(n.events, strings.TrimSpace(e.Name+" "+strings.Join(parts, " ")))
		n.mu.Unlock()
		if e.WantsAck() {
			_ = e.Ack(name + ":" + e.Name)
		}
	})
	n.hs = httptest.NewUnstartedServer(n.srv)
	n.hs.Config.ReadHeaderTimeout = sockio.DefaultReadHeaderTimeout
	n.hs.Config.IdleTimeout = sockio.DefaultIdleTimeout
	n.hs.Start()
	t.Cleanup(n.close)
	return n
}

// startCluster starts count nodes on b and waits until each sees them all.
func startCluster(t testing.TB, b Broker, count int, opts Options, recovery bool) []*node {
	t.Helper()
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = startNode(t, fmt.Sprintf("node%d", i), b, opts, recovery)
	}
	waitCluster(t, nodes, count)
	return nodes
}

// waitCluster waits until every node's "/" is subscribed and counts want
// servers.
func waitCluster(t testing.TB, nodes []*node, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.adapter().WaitSubscribed(ctx); err != nil {
			t.Fatalf("%s: not subscribed: %v\nlog:\n%s", n.name, err, n.log)
		}
	}
	for _, n := range nodes {
		eventually(t, 10*time.Second, func() error {
			got, err := n.srv.Of("/").ServerCount(ctx)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s: server count %d, want %d", n.name, got, want)
			}
			return nil
		})
	}
}

// eventually retries check every 10ms until it passes or timeout ends.
func eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkGoroutines fails if, once everything registered after it is
// cleaned up, more goroutines run than before the test.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			now := runtime.NumGoroutine()
			if now <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after close\n%s", before, now, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// tclient is a minimal Socket.IO client over the websocket transport:
// it answers pings, collects events (with the offset a recovering server
// appends), and acknowledges with what ackWith returns.
type tclient struct {
	t    testing.TB
	name string
	ws   *websocket.Conn
	sid  string
	pid  string

	wmu    sync.Mutex
	events chan tevent
	done   chan struct{}

	ackWith func(ev tevent) []any // nil: never acknowledge
}

type tevent struct {
	name string
	args []json.RawMessage
	atts [][]byte
}

func (e tevent) String() string {
	var b strings.Builder
	b.WriteString(e.name)
	for _, a := range e.args {
		b.WriteString(" ")
		b.Write(a)
	}
	return b.String()
}

// arg decodes argument i as JSON.
func (e tevent) arg(t testing.TB, i int, v any) {
	t.Helper()
	if i >= len(e.args) {
		t.Fatalf("event %s has no argument %d", e, i)
	}
	if err := json.Unmarshal(e.args[i], v); err != nil {
		t.Fatalf("event %s argument %d: %v", e, i, err)
	}
}

// last is the last argument as a string (the recovery offset), "" if none.
func (e tevent) last() string {
	if len(e.args) == 0 {
		return ""
	}
	var s string
	_ = json.Unmarshal(e.args[len(e.args)-1], &s)
	return s
}

const disconnectEvent = "(disconnected by server)"

// dialClient connects a client named name to "/"; auth may add pid and
// offset to recover a session.
func dialClient(t testing.TB, baseURL, name string, auth map[string]string, ackWith func(tevent) []any) *tclient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket&name=" + name
	ws, _, err := websocket.DefaultDialer.Dial(u, http.Header{"X-Client-Name": {name}})
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	c := &tclient{t: t, name: name, ws: ws, events: make(chan tevent, 256), done: make(chan struct{}), ackWith: ackWith}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, open, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
		t.Fatalf("%s: open packet %q, %v", name, open, err)
	}
	a := map[string]string{"name": name}
	for k, v := range auth {
		a[k] = v
	}
	body, _ := json.Marshal(a)
	c.write(websocket.TextMessage, append([]byte("40"), body...))
	// A recovered socket gets the events it missed before the answer.
	var dec parser.Decoder
	var msg []byte
	for {
		var err error
		_, msg, err = ws.ReadMessage()
		if err != nil {
			t.Fatalf("%s: connect answer: %v", name, err)
		}
		if strings.HasPrefix(string(msg), "40{") {
			break
		}
		if !strings.HasPrefix(string(msg), "42") {
			t.Fatalf("%s: connect answer %q", name, msg)
		}
		if ev, ok := c.decode(&dec, msg[1:], false); ok {
			c.events <- ev
		}
	}
	var ans struct{ SID, PID string }
	_ = json.Unmarshal(msg[2:], &ans)
	c.sid, c.pid = ans.SID, ans.PID
	_ = ws.SetReadDeadline(time.Time{})
	go c.read()
	t.Cleanup(c.close)
	return c
}

func (c *tclient) write(typ int, b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = c.ws.WriteMessage(typ, b)
}

func (c *tclient) close() {
	_ = c.ws.Close()
	<-c.done
}

func (c *tclient) read() {
	defer close(c.done)
	var dec parser.Decoder
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ == websocket.TextMessage {
			if len(data) == 0 {
				continue
			}
			switch data[0] {
			case '2':
				c.write(websocket.TextMessage, []byte("3"))
				continue
			case '4':
				data = data[1:]
			default:
				continue
			}
		}
		ev, ok := c.decode(&dec, data, typ == websocket.BinaryMessage)
		if !ok {
			continue
		}
		select {
		case c.events <- ev:
		case <-time.After(10 * time.Second):
			c.t.Errorf("%s: events not read for 10s", c.name)
			return
		}
	}
}

// decode reads a Socket.IO packet of "/" into an event (acknowledging it
// when asked); false until a packet is complete, or for other packets.
func (c *tclient) decode(dec *parser.Decoder, data []byte, binary bool) (tevent, bool) {
	p, err := dec.Add(data, binary)
	if err != nil || p == nil || p.Namespace != "/" {
		return tevent{}, false
	}
	switch p.Type {
	case parser.Disconnect:
		return tevent{name: disconnectEvent}, true
	case parser.Event, parser.BinaryEvent:
		raw, err := parser.SplitArray(p.Data)
		if err != nil || len(raw) == 0 {
			return tevent{}, false
		}
		var name string
		_ = json.Unmarshal(raw[0], &name)
		ev := tevent{name: name, args: raw[1:], atts: p.Attachments}
		if p.HasID && c.ackWith != nil {
			if res := c.ackWith(ev); res != nil {
				data, _, _ := parser.EncodeData(nil, res)
				c.write(websocket.TextMessage, []byte("43"+strconv.FormatUint(p.ID, 10)+string(data)))
			}
		}
		return ev, true
	}
	return tevent{}, false
}

// emit sends an event to the server.
func (c *tclient) emit(event string, args ...any) {
	data, _, err := parser.EncodeData(nil, append([]any{event}, args...))
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(websocket.TextMessage, append([]byte("42"), data...))
}

func (c *tclient) next(timeout time.Duration) (tevent, error) {
	select {
	case ev := <-c.events:
		return ev, nil
	case <-time.After(timeout):
		return tevent{}, fmt.Errorf("%s: no event within %v", c.name, timeout)
	}
}

// expect waits for the next event and checks its name.
func (c *tclient) expect(name string) tevent {
	c.t.Helper()
	ev, err := c.next(5 * time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	if ev.name != name {
		c.t.Fatalf("%s: got event %s, want %q", c.name, ev, name)
	}
	return ev
}

// expectNone checks that no event comes within d.
func (c *tclient) expectNone(d time.Duration) {
	c.t.Helper()
	if ev, err := c.next(d); err == nil {
		c.t.Fatalf("%s: unexpected event %s", c.name, ev)
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func itoa(n int) string { return strconv.Itoa(n) }

func decodeValue(b []byte) (any, error) { return notepack.Unmarshal(b) }
