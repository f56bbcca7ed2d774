package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio"
)

const waitFor = 10 * time.Second

func TestMain(m *testing.M) {
	// The runtime's network poller and sockio's own open descriptors that
	// last on first use: open them before any test counts.
	srv := sockio.NewServer(sockio.Options{})
	hs := httptest.NewServer(srv)
	before := openFDs()
	if conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil); err == nil {
		_, _, _ = conn.ReadMessage()
		// An idle WebSocket is handed to sockio's pollers, made then.
		for deadline := time.Now().Add(2 * time.Second); openFDs() <= before+2 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		_ = conn.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = srv.Close(ctx)
	cancel()
	hs.Close()
	os.Exit(m.Run())
}

// checkLeaks fails t if goroutines or file descriptors are left once the
// test's cleanups ran. Register it first: cleanups run last-in first-out.
func checkLeaks(t *testing.T) {
	t.Helper()
	goroutines, fds := runtime.NumGoroutine(), openFDs()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for (runtime.NumGoroutine() > goroutines || openFDs() > fds) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > goroutines {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines left, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
		}
		if n := openFDs(); n > fds {
			t.Errorf("%d file descriptors open, %d before: %s", n, fds, fdList())
		}
	})
}

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

// startChat runs the chat on the root namespace of a real server on
// 127.0.0.1, with opts.
func startChat(t *testing.T, opts Options) (string, *Chat) {
	t.Helper()
	io := sockio.NewServer(sockio.Options{})
	c := New(io.Of("/"), opts)
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
		_ = c.Flush(ctx)
	})
	return hs.URL, c
}

// wsClient is a Socket.IO client on a bare WebSocket: every packet is
// seen and counted, which the chat's fan-out tests need.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}

	mu     sync.Mutex
	events []event
	counts map[string]int
	acks   map[int]chan json.RawMessage
	nextID int
	grew   chan struct{}
	// connect is the CONNECT answer's payload ({"sid", "pid"}).
	connect json.RawMessage
}

type event struct {
	name  string
	arg   json.RawMessage
	parts []json.RawMessage // the whole packet: name, args and, with recovery, the offset
}

type dialOpts struct {
	from   string // local IP address (another loopback address: another client address)
	header http.Header
	auth   map[string]any
}

func dial(t *testing.T, url, name string, o dialOpts) *wsClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: waitFor}
	if o.from != "" {
		nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.from)}}
		d.NetDialContext = nd.DialContext
	}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", o.header)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &wsClient{t: t, conn: conn, done: make(chan struct{}), counts: map[string]int{},
		acks: map[int]chan json.RawMessage{}, grew: make(chan struct{}, 1)}
	connected := make(chan struct{})
	go c.read(connected)
	t.Cleanup(func() {
		_ = c.conn.Close()
		<-c.done
	})
	auth := map[string]any{"name": name}
	for k, v := range o.auth {
		auth[k] = v
	}
	b, _ := json.Marshal(auth)
	c.write("40" + string(b))
	select {
	case <-connected:
	case <-time.After(waitFor):
		t.Fatal("no CONNECT answer")
	}
	return c
}

func (c *wsClient) write(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.WriteMessage(websocket.TextMessage, []byte(s))
}

func (c *wsClient) read(connected chan struct{}) {
	defer close(c.done)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		msg := string(data)
		switch {
		case msg == "2":
			c.write("3")
		case strings.HasPrefix(msg, "40{"):
			c.mu.Lock()
			c.connect = json.RawMessage(data[2:])
			c.mu.Unlock()
			close(connected)
		case strings.HasPrefix(msg, "42["):
			var parts []json.RawMessage
			if json.Unmarshal(data[2:], &parts) != nil || len(parts) == 0 {
				continue
			}
			var name string
			_ = json.Unmarshal(parts[0], &name)
			var arg json.RawMessage
			if len(parts) > 1 {
				arg = parts[1]
			}
			c.mu.Lock()
			c.events = append(c.events, event{name, arg, parts})
			c.counts[name]++
			c.mu.Unlock()
			select {
			case c.grew <- struct{}{}:
			default:
			}
		case strings.HasPrefix(msg, "43"):
			i := strings.IndexByte(msg, '[')
			id, err := strconv.Atoi(msg[2:max(i, 2)])
			var parts []json.RawMessage
			if err != nil || json.Unmarshal(data[i:], &parts) != nil || len(parts) == 0 {
				continue
			}
			c.mu.Lock()
			ch := c.acks[id]
			delete(c.acks, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- parts[0]
			}
		}
	}
}

func (c *wsClient) emit(name string, args ...any) {
	b, _ := json.Marshal(append([]any{name}, args...))
	c.write("42" + string(b))
}

// call emits with an acknowledgement and returns its first argument.
func (c *wsClient) call(name string, args ...any) json.RawMessage {
	c.t.Helper()
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	ch := make(chan json.RawMessage, 1)
	c.acks[id] = ch
	c.mu.Unlock()
	b, _ := json.Marshal(append([]any{name}, args...))
	c.write(fmt.Sprintf("42%d%s", id, b))
	select {
	case res := <-ch:
		return res
	case <-time.After(waitFor):
		c.t.Fatalf("no answer to %s", name)
		return nil
	}
}

// refused reports whether an answer is a refusal of the rate limits.
func refused(t *testing.T, res json.RawMessage) bool {
	t.Helper()
	var r struct{ Error string }
	_ = json.Unmarshal(res, &r)
	if r.Error != "" && !strings.HasPrefix(r.Error, "slow down") {
		t.Fatalf("refused for another reason: %s", r.Error)
	}
	return r.Error != ""
}

// wait returns the first event named name, from the start, that match
// accepts (nil: any).
func (c *wsClient) wait(name string, match func(json.RawMessage) bool) json.RawMessage {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		c.mu.Lock()
		for _, e := range c.events {
			if e.name == name && (match == nil || match(e.arg)) {
				c.mu.Unlock()
				return e.arg
			}
		}
		c.mu.Unlock()
		select {
		case <-c.grew:
		case <-deadline:
			c.t.Fatalf("no matching %q event", name)
			return nil
		}
	}
}

func (c *wsClient) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[name]
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func fdList() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var out []string
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out = append(out, e.Name()+"="+l)
	}
	return strings.Join(out, " ")
}
