package testkit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio/parser"
)

// Client is a minimal Socket.IO client over the websocket transport, the
// raw protocol written out so that the tests see what a peer sends: it
// answers pings, collects the events of its namespace (with the offset a
// recovering server appends), and acknowledges with what its ackWith
// returns.
type Client struct {
	t testing.TB
	// Name is the client's name, sent in its handshake's auth.
	Name string
	nsp  string
	ws   *websocket.Conn
	// SID and PID are the socket's ids, from the connect answer.
	SID, PID string

	wmu    sync.Mutex
	events chan Event
	done   chan struct{}

	amu     sync.Mutex
	ackWith func(ev Event) []any // nil: never acknowledge
}

// Event is an event a Client got: its name, its arguments as JSON, and
// their binary attachments.
type Event struct {
	Name string
	Args []json.RawMessage
	Atts [][]byte
}

// DisconnectEvent is the Event a Client gets when the server disconnects
// its socket.
const DisconnectEvent = "(disconnected by server)"

func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for _, a := range e.Args {
		b.WriteString(" ")
		b.Write(a)
	}
	return b.String()
}

// Arg decodes argument i as JSON into v.
func (e Event) Arg(t testing.TB, i int, v any) {
	t.Helper()
	if i >= len(e.Args) {
		t.Fatalf("event %s has no argument %d", e, i)
	}
	if err := json.Unmarshal(e.Args[i], v); err != nil {
		t.Fatalf("event %s argument %d: %v", e, i, err)
	}
}

// Last is the last argument as a string (the recovery offset), "" if
// none.
func (e Event) Last() string {
	if len(e.Args) == 0 {
		return ""
	}
	var s string
	_ = json.Unmarshal(e.Args[len(e.Args)-1], &s)
	return s
}

// Dial connects a client named name to namespace nsp of the server at
// baseURL (http://...); auth adds to its handshake's {"name": name} (pid
// and offset recover a session). It is closed when the test ends.
func Dial(t testing.TB, baseURL, name, nsp string, auth map[string]string, ackWith func(Event) []any) *Client {
	t.Helper()
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket&name=" + name
	ws, _, err := websocket.DefaultDialer.Dial(u, http.Header{"X-Client-Name": {name}})
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	c := &Client{t: t, Name: name, nsp: nsp, ws: ws, events: make(chan Event, 256), done: make(chan struct{}), ackWith: ackWith}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, open, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
		t.Fatalf("%s: open packet %q, %v", name, open, err)
	}
	a := map[string]string{"name": name}
	for k, v := range auth {
		a[k] = v
	}
	body, _ := json.Marshal(a)
	connect := "4" + c.prefix(parser.Connect)
	c.Write(websocket.TextMessage, append([]byte(connect), body...))
	// A recovered socket gets the events it missed before the answer.
	var dec parser.Decoder
	var msg []byte
	for {
		var err error
		_, msg, err = ws.ReadMessage()
		if err != nil {
			t.Fatalf("%s: connect answer: %v", name, err)
		}
		if strings.HasPrefix(string(msg), connect+"{") {
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
	_ = json.Unmarshal(msg[len(connect):], &ans)
	c.SID, c.PID = ans.SID, ans.PID
	_ = ws.SetReadDeadline(time.Time{})
	go c.read()
	t.Cleanup(c.Close)
	return c
}

// SetAckWith changes what the client acknowledges events with (nil:
// never).
func (c *Client) SetAckWith(f func(Event) []any) {
	c.amu.Lock()
	defer c.amu.Unlock()
	c.ackWith = f
}

// Events delivers the events as they come, for a test that reads them
// itself rather than through Next.
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Write sends a websocket message as is.
func (c *Client) Write(typ int, b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = c.ws.WriteMessage(typ, b)
}

// Close closes the connection and waits for the reader to end.
func (c *Client) Close() {
	_ = c.ws.Close()
	<-c.done
}

func (c *Client) read() {
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
				c.Write(websocket.TextMessage, []byte("3"))
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
			c.t.Errorf("%s: events not read for 10s", c.Name)
			return
		}
	}
}

// decode reads a Socket.IO packet of the client's namespace into an event
// (acknowledging it when asked); false until a packet is complete, or for
// other packets.
func (c *Client) decode(dec *parser.Decoder, data []byte, binary bool) (Event, bool) {
	p, err := dec.Add(data, binary)
	if err != nil || p == nil || p.Namespace != c.nsp {
		return Event{}, false
	}
	switch p.Type {
	case parser.Disconnect:
		return Event{Name: DisconnectEvent}, true
	case parser.Event, parser.BinaryEvent:
		raw, err := parser.SplitArray(p.Data)
		if err != nil || len(raw) == 0 {
			return Event{}, false
		}
		var name string
		_ = json.Unmarshal(raw[0], &name)
		ev := Event{Name: name, Args: raw[1:], Atts: p.Attachments}
		c.amu.Lock()
		ackWith := c.ackWith
		c.amu.Unlock()
		if p.HasID && ackWith != nil {
			if res := ackWith(ev); res != nil {
				data, _, _ := parser.EncodeData(nil, res)
				c.Write(websocket.TextMessage, []byte("4"+c.prefix(parser.Ack)+strconv.FormatUint(p.ID, 10)+string(data)))
			}
		}
		return ev, true
	}
	return Event{}, false
}

// prefix is the start of a packet of type typ for the client's namespace.
func (c *Client) prefix(typ parser.Type) string {
	s := strconv.Itoa(int(typ))
	if c.nsp != "/" {
		s += c.nsp + ","
	}
	return s
}

// Emit sends an event to the server.
func (c *Client) Emit(event string, args ...any) {
	data, _, err := parser.EncodeData(nil, append([]any{event}, args...))
	if err != nil {
		c.t.Fatal(err)
	}
	c.Write(websocket.TextMessage, append([]byte("4"+c.prefix(parser.Event)), data...))
}

// Next waits up to timeout for the next event; with no timeout, it takes
// one only if it is there.
func (c *Client) Next(timeout time.Duration) (Event, error) {
	if timeout <= 0 {
		select {
		case ev := <-c.events:
			return ev, nil
		default:
			return Event{}, fmt.Errorf("%s: no event", c.Name)
		}
	}
	select {
	case ev := <-c.events:
		return ev, nil
	case <-time.After(timeout):
		return Event{}, fmt.Errorf("%s: no event within %v", c.Name, timeout)
	}
}

// Expect waits for the next event and checks its name.
func (c *Client) Expect(name string) Event {
	c.t.Helper()
	ev, err := c.Next(5 * time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	if ev.Name != name {
		c.t.Fatalf("%s: got event %s, want %q", c.Name, ev, name)
	}
	return ev
}

// ExpectNone checks that no event comes within d.
func (c *Client) ExpectNone(d time.Duration) {
	c.t.Helper()
	if ev, err := c.Next(d); err == nil {
		c.t.Fatalf("%s: unexpected event %s", c.Name, ev)
	}
}
