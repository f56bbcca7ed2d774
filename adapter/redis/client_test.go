package redis

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

// tclient is a minimal Socket.IO client over the websocket transport, for
// tests: it answers pings, collects events, and acknowledges the events
// that ask for it with what ackWith returns.
type tclient struct {
	t    testing.TB
	name string
	nsp  string
	ws   *websocket.Conn
	sid  string

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

const disconnectEvent = "(disconnected by server)"

func dialClient(t testing.TB, baseURL, name string, ackWith func(tevent) []any) *tclient {
	t.Helper()
	return dialClientNsp(t, baseURL, name, "/", ackWith)
}

// dialClientNsp connects a client to namespace nsp.
func dialClientNsp(t testing.TB, baseURL, name, nsp string, ackWith func(tevent) []any) *tclient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket&name=" + name
	hdr := http.Header{"X-Client-Name": {name}}
	ws, _, err := websocket.DefaultDialer.Dial(u, hdr)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	c := &tclient{t: t, name: name, nsp: nsp, ws: ws, events: make(chan tevent, 256), done: make(chan struct{}), ackWith: ackWith}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, open, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
		t.Fatalf("%s: open packet %q, %v", name, open, err)
	}
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.write(websocket.TextMessage, []byte(prefix+`{"name":"`+name+`"}`))
	_, msg, err := ws.ReadMessage()
	if err != nil || !strings.HasPrefix(string(msg), prefix+"{") {
		t.Fatalf("%s: connect answer %q, %v", name, msg, err)
	}
	var sid struct{ SID string }
	_ = json.Unmarshal(msg[len(prefix):], &sid)
	c.sid = sid.SID
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
		p, err := dec.Add(data, typ == websocket.BinaryMessage)
		if err != nil || p == nil || p.Namespace != c.nsp {
			continue
		}
		switch p.Type {
		case parser.Disconnect:
			c.events <- tevent{name: disconnectEvent}
		case parser.Event, parser.BinaryEvent:
			raw, err := parser.SplitArray(p.Data)
			if err != nil || len(raw) == 0 {
				continue
			}
			var name string
			_ = json.Unmarshal(raw[0], &name)
			ev := tevent{name: name, args: raw[1:], atts: p.Attachments}
			if p.HasID && c.ackWith != nil {
				if res := c.ackWith(ev); res != nil {
					data, _, _ := parser.EncodeData(nil, res)
					c.write(websocket.TextMessage, []byte("4"+c.prefix(parser.Ack)+strconv.FormatUint(p.ID, 10)+string(data)))
				}
			}
			select {
			case c.events <- ev:
			case <-time.After(10 * time.Second):
				c.t.Errorf("%s: events not read for 10s", c.name)
				return
			}
		}
	}
}

// emit sends an event to the server.
func (c *tclient) emit(event string, args ...any) {
	data, _, err := parser.EncodeData(nil, append([]any{event}, args...))
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(websocket.TextMessage, append([]byte("4"+c.prefix(parser.Event)), data...))
}

// prefix is the start of a packet of type typ for the client's namespace.
func (c *tclient) prefix(typ parser.Type) string {
	s := strconv.Itoa(int(typ))
	if c.nsp != "/" {
		s += c.nsp + ","
	}
	return s
}

// next waits for the next event.
func (c *tclient) next(timeout time.Duration) (tevent, error) {
	if timeout <= 0 {
		select {
		case ev := <-c.events:
			return ev, nil
		default:
			return tevent{}, fmt.Errorf("%s: no event", c.name)
		}
	}
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
