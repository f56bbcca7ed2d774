package adaptertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio/parser"
)

// client is a minimal Socket.IO client over WebSocket that keeps what it
// receives in one queue per event name, so a scenario waits for the event
// it means whatever else arrives (the suite's sync probes, say). A raw
// client rather than package client: a scenario must see every packet
// once, as sent, and choose when and where it reconnects.
type client struct {
	t       testing.TB
	name    string
	recover bool // the server has connection-state recovery: events end with an offset

	noAck atomic.Bool // true: never acknowledge

	mu      sync.Mutex
	ws      *websocket.Conn
	done    chan struct{} // closed when the current connection's reader ends
	sid     string
	pid     string
	offset  string // the last offset received
	queues  map[string][]event
	changed chan struct{} // closed and replaced on every new event
}

// event is what a client received.
type event struct {
	name   string
	args   []json.RawMessage // the offset left out
	atts   [][]byte
	offset string
}

// disconnected is the queue of the server's DISCONNECT packets.
const disconnected = "(disconnect)"

func (e event) String() string {
	var b strings.Builder
	b.WriteString(e.name)
	for _, a := range e.args {
		b.WriteByte(' ')
		b.Write(a)
	}
	return b.String()
}

// arg decodes argument i.
func (e event) arg(t testing.TB, i int, v any) {
	t.Helper()
	if i >= len(e.args) {
		t.Fatalf("event %s has no argument %d", e, i)
	}
	if err := json.Unmarshal(e.args[i], v); err != nil {
		t.Fatalf("event %s argument %d: %v", e, i, err)
	}
}

// dial connects a client named name to "/" of the server at baseURL. It
// acknowledges every event that asks with its name, until noAck is set.
func dial(t testing.TB, baseURL, name string, recover bool) *client {
	t.Helper()
	c := &client{t: t, name: name, recover: recover, queues: make(map[string][]event), changed: make(chan struct{})}
	if err := c.connect(baseURL, nil); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(c.close)
	return c
}

// connect opens a connection and joins "/", with extra in the CONNECT
// payload (pid and offset to recover).
func (c *client) connect(baseURL string, extra map[string]any) error {
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket&name=" + c.name
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial(u, http.Header{"X-Client-Name": {c.name}})
	if err != nil {
		return fmt.Errorf("dial %s: %w", u, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, open, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
		_ = ws.Close()
		return fmt.Errorf("open packet %q: %v", open, err)
	}
	auth := map[string]any{"name": c.name}
	for k, v := range extra {
		auth[k] = v
	}
	payload, _ := json.Marshal(auth)
	_ = ws.SetReadDeadline(time.Time{})
	// The reader starts before the CONNECT: a recovered session's missed
	// events come before the server's CONNECT answer, as from the
	// reference server (its client buffers them until connected).
	done := make(chan struct{})
	answer := make(chan []byte, 1)
	c.mu.Lock()
	c.ws, c.done = ws, done
	c.mu.Unlock()
	go c.read(ws, done, answer)
	c.write(ws, append([]byte("40"), payload...))
	var msg []byte
	select {
	case msg = <-answer:
	case <-done:
		return errors.New("connection closed before the CONNECT answer")
	case <-time.After(5 * time.Second):
		_ = ws.Close()
		<-done
		return errors.New("no CONNECT answer within 5s")
	}
	var ans struct{ SID, PID string }
	if err := json.Unmarshal(msg, &ans); err != nil || ans.SID == "" {
		_ = ws.Close()
		<-done
		return fmt.Errorf("connect answer %q: %v", msg, err)
	}
	c.mu.Lock()
	c.sid = ans.SID
	if ans.PID != "" {
		c.pid = ans.PID
	}
	c.mu.Unlock()
	return nil
}

// ID returns the socket id of the current connection.
func (c *client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sid
}

// drop closes the connection without a DISCONNECT, as a lost network
// would (the server sees "transport close"), and waits for its reader.
func (c *client) drop() {
	c.mu.Lock()
	ws, done := c.ws, c.done
	c.mu.Unlock()
	if ws == nil {
		return
	}
	_ = ws.Close()
	<-done
}

// reconnect connects again to baseURL asking to recover the session.
func (c *client) reconnect(baseURL string) error {
	c.drop()
	c.mu.Lock()
	extra := map[string]any{"pid": c.pid, "offset": c.offset}
	c.mu.Unlock()
	return c.connect(baseURL, extra)
}

func (c *client) close() { c.drop() }

func (c *client) write(ws *websocket.Conn, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = ws.WriteMessage(websocket.TextMessage, b)
}

func (c *client) read(ws *websocket.Conn, done chan struct{}, answer chan<- []byte) {
	defer close(done)
	var dec parser.Decoder
	for {
		typ, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if typ == websocket.TextMessage {
			if len(data) == 0 {
				continue
			}
			switch data[0] {
			case '2':
				c.write(ws, []byte("3"))
				continue
			case '4':
				data = data[1:]
			default:
				continue
			}
		}
		p, err := dec.Add(data, typ == websocket.BinaryMessage)
		if err != nil || p == nil || p.Namespace != "/" {
			continue
		}
		switch p.Type {
		case parser.Connect:
			select {
			case answer <- p.Data:
			default:
			}
		case parser.ConnectError:
			select {
			case answer <- []byte("connect error " + string(p.Data)):
			default:
			}
		case parser.Disconnect:
			c.push(event{name: disconnected})
		case parser.Event, parser.BinaryEvent:
			raw, err := parser.SplitArray(p.Data)
			if err != nil || len(raw) == 0 {
				continue
			}
			var ev event
			_ = json.Unmarshal(raw[0], &ev.name)
			ev.args, ev.atts = raw[1:], p.Attachments
			if c.recover && len(ev.args) > 0 {
				// The server appends the event's offset as its last argument.
				if err := json.Unmarshal(ev.args[len(ev.args)-1], &ev.offset); err == nil {
					ev.args = ev.args[:len(ev.args)-1]
				}
			}
			if p.HasID && !c.noAck.Load() {
				res, _, _ := parser.EncodeData(nil, []any{c.name})
				c.write(ws, append([]byte("43"+strconv.FormatUint(p.ID, 10)), res...))
			}
			c.push(ev)
		}
	}
}

func (c *client) push(ev event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.offset != "" {
		c.offset = ev.offset
	}
	c.queues[ev.name] = append(c.queues[ev.name], ev)
	close(c.changed)
	c.changed = make(chan struct{})
}

// emit sends an event to the server.
func (c *client) emit(name string, args ...any) {
	data, _, err := parser.EncodeData(nil, append([]any{name}, args...))
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	c.write(ws, append([]byte("42"), data...))
}

// next takes the oldest event named name, waiting up to timeout.
func (c *client) next(name string, timeout time.Duration) (event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if q := c.queues[name]; len(q) > 0 {
			ev := q[0]
			c.queues[name] = q[1:]
			c.mu.Unlock()
			return ev, nil
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return event{}, fmt.Errorf("%s: no %q within %v", c.name, name, timeout)
		}
	}
}

// expect waits for the next event named name.
func (c *client) expect(name string) event {
	c.t.Helper()
	ev, err := c.next(name, eventTimeout)
	if err != nil {
		c.t.Fatal(err)
	}
	return ev
}

// pending returns how many events named name wait unread.
func (c *client) pending(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queues[name])
}

// eventTimeout bounds every wait for something that must arrive.
const eventTimeout = 10 * time.Second
