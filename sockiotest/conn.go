package sockiotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// DefaultTimeout bounds every wait for something that must arrive, unless
// the options say otherwise.
const DefaultTimeout = 10 * time.Second

// maxQueued bounds what a connection keeps unread: a test that never
// reads fails instead of growing memory without limit.
const maxQueued = 1 << 16

// ConnOptions say how Dial opens a connection.
type ConnOptions struct {
	// Path is the server's path, "/socket.io/" by default.
	Path string
	// Query is added to the handshake's query (EIO=4&transport=websocket;
	// set EIO here for another protocol version).
	Query url.Values
	// Header is sent with the websocket handshake.
	Header http.Header
	// Pings delivers the server's pings ("2") as packets instead of
	// answering them with a pong.
	Pings bool
	// Timeout bounds each wait (Read, Expect...), DefaultTimeout if zero.
	Timeout time.Duration
}

// Frame is one websocket message: an Engine.IO packet in text, or a
// binary attachment.
type Frame struct {
	Binary bool
	Data   []byte
}

func (f Frame) String() string {
	if f.Binary {
		return fmt.Sprintf("<binary %q>", f.Data)
	}
	return string(f.Data)
}

// Conn is one Engine.IO connection over websocket, written out by hand so
// that a test sees exactly the packets the server writes and sends
// exactly the ones it wants, malformed ones included. A reader goroutine
// answers the server's pings (unless ConnOptions.Pings) and queues the
// rest. Conn methods that wait fail the test when nothing comes in time.
type Conn struct {
	t       TB
	ws      *websocket.Conn
	timeout time.Duration
	pings   bool
	// SID is the Engine.IO session id, from the open packet.
	SID string
	// Open is the open packet's JSON (sid, upgrades, pingInterval...).
	Open json.RawMessage

	wmu sync.Mutex

	mu      sync.Mutex
	frames  []Frame
	changed chan struct{}      // closed and replaced when frames or err change
	err     error              // why the reader ended; nil while it runs
	hook    func(*Conn, Frame) // when set, frames go to it instead of the queue
	done    chan struct{}
}

// Dial opens an Engine.IO v4 connection over websocket to the server at
// baseURL (http://host:port, as httptest.Server.URL) and reads its open
// packet. The connection is closed when the test ends.
func Dial(t TB, baseURL string) *Conn {
	t.Helper()
	return DialWith(t, baseURL, ConnOptions{})
}

// DialWith is Dial with options.
func DialWith(t TB, baseURL string, opts ConnOptions) *Conn {
	t.Helper()
	c, err := dial(t, baseURL, opts, nil)
	if err != nil {
		t.Fatalf("sockiotest: %v", err)
		return nil
	}
	return c
}

func dial(t TB, baseURL string, opts ConnOptions, hook func(*Conn, Frame)) (*Conn, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("failed to parse %q: %w", baseURL, err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	u.Path = opts.Path
	if u.Path == "" {
		u.Path = "/socket.io/"
	}
	q := url.Values{"EIO": {"4"}, "transport": {"websocket"}}
	for k, v := range opts.Query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := websocket.Dialer{HandshakeTimeout: timeout}
	ws, resp, err := d.Dial(u.String(), opts.Header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("failed to dial %s: %w (HTTP %s)", u, err, resp.Status)
		}
		return nil, fmt.Errorf("failed to dial %s: %w", u, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(timeout))
	typ, open, err := ws.ReadMessage()
	if err != nil || typ != websocket.TextMessage || len(open) < 2 || open[0] != '0' {
		_ = ws.Close()
		return nil, fmt.Errorf("failed to read the open packet from %s: %q, %v", u, open, err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &Conn{t: t, ws: ws, timeout: timeout, pings: opts.Pings, Open: json.RawMessage(open[1:]),
		changed: make(chan struct{}), hook: hook, done: make(chan struct{})}
	var hs struct{ SID string }
	_ = json.Unmarshal(open[1:], &hs)
	c.SID = hs.SID
	go c.read()
	t.Cleanup(c.Close)
	return c, nil
}

func (c *Conn) read() {
	defer close(c.done)
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.notify()
			c.mu.Unlock()
			return
		}
		if typ == websocket.TextMessage && !c.pings && len(data) == 1 && data[0] == '2' {
			_ = c.write(websocket.TextMessage, []byte("3"))
			continue
		}
		f := Frame{Binary: typ == websocket.BinaryMessage, Data: data}
		c.mu.Lock()
		hook := c.hook
		if hook == nil {
			if len(c.frames) >= maxQueued {
				c.mu.Unlock()
				c.t.Errorf("sockiotest: %d packets not read: closing the connection", maxQueued)
				_ = c.ws.Close()
				continue
			}
			c.frames = append(c.frames, f)
			c.notify()
		}
		c.mu.Unlock()
		if hook != nil {
			hook(c, f)
		}
	}
}

// notify wakes the waiters; c.mu is held.
func (c *Conn) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Conn) write(typ int, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.ws.WriteMessage(typ, b)
}

// Send writes an Engine.IO packet as a text message ("40", `42["hi"]`,
// "3"...), as is.
func (c *Conn) Send(packet string) {
	c.t.Helper()
	if err := c.write(websocket.TextMessage, []byte(packet)); err != nil {
		c.t.Fatalf("sockiotest: failed to send %q: %v", packet, err)
	}
}

// SendBinary writes a binary message (an attachment), as is.
func (c *Conn) SendBinary(b []byte) {
	c.t.Helper()
	if err := c.write(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("sockiotest: failed to send %d binary bytes: %v", len(b), err)
	}
}

// Next waits up to timeout for the next message. Its error says the
// connection ended (wrapping the read error) or nothing came.
func (c *Conn) Next(timeout time.Duration) (Frame, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if len(c.frames) > 0 {
			f := c.frames[0]
			c.frames = c.frames[1:]
			c.mu.Unlock()
			return f, nil
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return Frame{}, &ClosedError{Err: err}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return Frame{}, fmt.Errorf("no packet within %v", timeout)
		}
	}
}

// ClosedError is Next's error once the connection has ended.
type ClosedError struct{ Err error }

func (e *ClosedError) Error() string { return "connection closed: " + e.Err.Error() }
func (e *ClosedError) Unwrap() error { return e.Err }

// Read returns the next text message (pings are answered, not returned,
// unless ConnOptions.Pings).
func (c *Conn) Read() string {
	c.t.Helper()
	f, err := c.Next(c.timeout)
	if err != nil {
		c.t.Fatalf("sockiotest: read: %v", err)
		return ""
	}
	if f.Binary {
		c.t.Fatalf("sockiotest: read a binary message %q, want text", f.Data)
	}
	return string(f.Data)
}

// ReadBinary returns the next message, which must be binary.
func (c *Conn) ReadBinary() []byte {
	c.t.Helper()
	f, err := c.Next(c.timeout)
	if err != nil {
		c.t.Fatalf("sockiotest: read: %v", err)
		return nil
	}
	if !f.Binary {
		c.t.Fatalf("sockiotest: read text %q, want a binary message", f.Data)
	}
	return f.Data
}

// Expect reads the next text message and checks it is want.
func (c *Conn) Expect(want string) {
	c.t.Helper()
	if got := c.Read(); got != want {
		c.t.Fatalf("sockiotest: got %q, want %q", got, want)
	}
}

// ExpectPrefix reads the next text message, checks it starts with
// prefix, and returns it.
func (c *Conn) ExpectPrefix(prefix string) string {
	c.t.Helper()
	got := c.Read()
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("sockiotest: got %q, want %q...", got, prefix)
	}
	return got
}

// ExpectBinary reads the next message and checks it is the binary want.
func (c *Conn) ExpectBinary(want []byte) {
	c.t.Helper()
	if got := c.ReadBinary(); string(got) != string(want) {
		c.t.Fatalf("sockiotest: got binary %q, want %q", got, want)
	}
}

// ExpectNone checks that no message comes within d (nor the end of the
// connection).
func (c *Conn) ExpectNone(d time.Duration) {
	c.t.Helper()
	f, err := c.Next(d)
	if err == nil {
		c.t.Fatalf("sockiotest: unexpected %s", f)
	}
	var closed *ClosedError
	if errors.As(err, &closed) {
		c.t.Fatalf("sockiotest: unexpected end: %v", err)
	}
}

// ExpectClosed waits for the server to end the connection, skipping what
// comes before, and returns the read error (a *websocket.CloseError when
// the server sent a close frame). It fails the test when the connection
// is still open after the timeout.
func (c *Conn) ExpectClosed() error {
	c.t.Helper()
	deadline := time.Now().Add(c.timeout)
	for {
		_, err := c.Next(time.Until(deadline))
		var closed *ClosedError
		if errors.As(err, &closed) {
			return closed.Err
		}
		if err != nil {
			c.t.Fatalf("sockiotest: connection still open after %v", c.timeout)
			return nil
		}
	}
}

// Connect sends a Socket.IO CONNECT to namespace nsp, with auth as its
// payload when not nil, and returns the next text message: the answer,
// unless the server sends something else first.
func (c *Conn) Connect(nsp string, auth any) string {
	c.t.Helper()
	c.Send("4" + connectPacket(c.t, nsp, auth))
	return c.Read()
}

// connectPacket is a Socket.IO CONNECT packet (without the Engine.IO "4").
func connectPacket(t TB, nsp string, auth any) string {
	p := "0"
	if nsp != "" && nsp != "/" {
		p += nsp + ","
	}
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			t.Fatalf("sockiotest: failed to encode auth %v: %v", auth, err)
		}
		p += string(b)
	}
	return p
}

// Close closes the connection without a word (the server sees "transport
// close", as from a lost network) and waits for the reader to end.
// Calling it again does nothing.
func (c *Conn) Close() {
	_ = c.ws.Close()
	<-c.done
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }
