package sockiotest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio/parser"
)

// ClientOptions say how Connect joins a namespace.
type ClientOptions struct {
	// Namespace is "/" by default.
	Namespace string
	// Auth is the CONNECT payload (the handshake's auth); nil sends none.
	// Reconnect adds pid and offset to it.
	Auth map[string]any
	// Name names the client in failure messages.
	Name string
	// Conn are the connection's options; its Timeout bounds the client's
	// waits too.
	Conn ConnOptions
	// AckWith answers the server's events that ask for an
	// acknowledgement: nil, or a nil result, never answers.
	AckWith func(Event) []any
	// Offsets takes the recovery offset a server with connection-state
	// recovery appends to each event out of Args, into Event.Offset.
	Offsets bool
}

// ConnectError is the server's refusal of a CONNECT: the namespace is
// unknown or a middleware said no.
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

func (e *ConnectError) Error() string {
	if len(e.Data) > 0 {
		return "connect refused: " + e.Message + " " + string(e.Data)
	}
	return "connect refused: " + e.Message
}

// Client is a Socket.IO client of one namespace on its own Conn: it
// connects (with auth), emits with or without an acknowledgement, answers
// the server's acknowledgement requests with AckWith, and keeps the events
// it gets in arrival order, so a test can take the next one (Next,
// Expect) or the next of one name whatever else came (Await). It can drop
// its connection and reconnect, recovering its session, keeping what it
// got.
type Client struct {
	t       TB
	opts    ClientOptions
	nsp     string
	timeout time.Duration

	mu      sync.Mutex
	conn    *Conn
	sid     string
	pid     string
	offset  string // the last offset received
	events  []Event
	changed chan struct{} // closed and replaced on every new event
	ackID   uint64
	acks    map[uint64]chan Event
	ackWith func(Event) []any
}

// Connect connects a client to namespace nsp of the server at baseURL,
// failing the test if it cannot. It is closed when the test ends.
func Connect(t TB, baseURL, nsp string) *Client {
	t.Helper()
	return ConnectWith(t, baseURL, ClientOptions{Namespace: nsp})
}

// ConnectWith is Connect with options.
func ConnectWith(t TB, baseURL string, opts ClientOptions) *Client {
	t.Helper()
	c, err := TryConnect(t, baseURL, opts)
	if err != nil {
		t.Fatalf("sockiotest: %s: %v", opts.Name, err)
		return nil
	}
	return c
}

// TryConnect is ConnectWith that returns the error, a *ConnectError when
// the server refused the CONNECT.
func TryConnect(t TB, baseURL string, opts ClientOptions) (*Client, error) {
	t.Helper()
	c := &Client{t: t, opts: opts, nsp: opts.Namespace, timeout: opts.Conn.Timeout, changed: make(chan struct{}),
		acks: make(map[uint64]chan Event), ackWith: opts.AckWith}
	if c.nsp == "" {
		c.nsp = "/"
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if err := c.connect(baseURL, opts.Auth); err != nil {
		return nil, err
	}
	return c, nil
}

// connect opens a connection and sends the CONNECT with auth. Events that
// come before the answer (a recovered session's missed ones) are kept, as
// the reference client does.
func (c *Client) connect(baseURL string, auth map[string]any) error {
	answer := make(chan *parser.Packet, 1)
	var dec parser.Decoder // used by the reader goroutine only
	conn, err := dial(c.t, baseURL, c.opts.Conn, func(conn *Conn, f Frame) { c.handle(conn, &dec, f, answer) })
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	var payload any
	if auth != nil {
		payload = auth
	}
	if err := conn.write(websocket.TextMessage, []byte("4"+connectPacket(c.t, c.nsp, payload))); err != nil {
		conn.Close()
		return fmt.Errorf("failed to send CONNECT: %w", err)
	}
	var p *parser.Packet
	select {
	case p = <-answer:
	case <-conn.Done():
		return errors.New("connection closed before the CONNECT answer")
	case <-time.After(c.timeout):
		conn.Close()
		return fmt.Errorf("no CONNECT answer within %v", c.timeout)
	}
	if p.Type == parser.ConnectError {
		conn.Close()
		ce := &ConnectError{}
		var body struct {
			Message string
			Data    json.RawMessage
		}
		if json.Unmarshal(p.Data, &body) == nil {
			ce.Message, ce.Data = body.Message, body.Data
		} else {
			ce.Message = string(p.Data)
		}
		return ce
	}
	var ans struct{ SID, PID string }
	if err := json.Unmarshal(p.Data, &ans); err != nil || ans.SID == "" {
		conn.Close()
		return fmt.Errorf("bad CONNECT answer %q: %v", p.Data, err)
	}
	c.mu.Lock()
	c.sid = ans.SID
	if ans.PID != "" {
		c.pid = ans.PID
	}
	c.mu.Unlock()
	return nil
}

// handle runs on conn's reader for each message.
func (c *Client) handle(conn *Conn, dec *parser.Decoder, f Frame, answer chan<- *parser.Packet) {
	data := f.Data
	if !f.Binary {
		if len(data) == 0 || data[0] != '4' {
			return // Engine.IO noop, close...: nothing for a socket
		}
		data = data[1:]
	}
	p, err := dec.Add(data, f.Binary)
	if err != nil {
		c.t.Errorf("sockiotest: %s: the server sent a malformed packet %s: %v", c.opts.Name, f, err)
		return
	}
	if p == nil || p.Namespace != c.nsp {
		return
	}
	switch p.Type {
	case parser.Connect, parser.ConnectError:
		select {
		case answer <- p:
		default:
		}
	case parser.Disconnect:
		c.push(Event{Name: DisconnectEvent})
	case parser.Ack, parser.BinaryAck:
		args, _ := parser.SplitArray(p.Data)
		c.mu.Lock()
		ch := c.acks[p.ID]
		delete(c.acks, p.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- Event{Args: args, Attachments: p.Attachments}
		}
	case parser.Event, parser.BinaryEvent:
		raw, err := parser.SplitArray(p.Data)
		if err != nil || len(raw) == 0 {
			c.t.Errorf("sockiotest: %s: bad event %q: %v", c.opts.Name, p.Data, err)
			return
		}
		ev := Event{Args: raw[1:], Attachments: p.Attachments}
		_ = json.Unmarshal(raw[0], &ev.Name)
		if c.opts.Offsets && len(ev.Args) > 0 {
			if err := json.Unmarshal(ev.Args[len(ev.Args)-1], &ev.Offset); err == nil {
				ev.Args = ev.Args[:len(ev.Args)-1]
			}
		}
		if p.HasID {
			c.mu.Lock()
			ackWith := c.ackWith
			c.mu.Unlock()
			if ackWith != nil {
				if res := ackWith(ev); res != nil {
					c.send(conn, parser.Ack, p.ID, true, res)
				}
			}
		}
		c.push(ev)
	}
}

func (c *Client) push(ev Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.events) >= maxQueued {
		c.t.Errorf("sockiotest: %s: %d events not read; dropping %s", c.opts.Name, maxQueued, ev)
		return
	}
	if ev.Offset != "" {
		c.offset = ev.Offset
	}
	c.events = append(c.events, ev)
	close(c.changed)
	c.changed = make(chan struct{})
}

// send encodes and writes an EVENT or ACK (binary when args hold []byte).
func (c *Client) send(conn *Conn, typ parser.Type, id uint64, hasID bool, args []any) {
	data, atts, err := parser.EncodeData(nil, args)
	if err != nil {
		c.t.Errorf("sockiotest: %s: failed to encode %v: %v", c.opts.Name, args, err)
		return
	}
	if len(atts) > 0 {
		typ += parser.BinaryEvent - parser.Event // BinaryEvent or BinaryAck
	}
	p := parser.Packet{Type: typ, Namespace: c.nsp, ID: id, HasID: hasID, Data: data, Attachments: atts}
	if err := conn.write(websocket.TextMessage, parser.AppendText([]byte("4"), &p)); err != nil {
		return // the connection ended: the reader says so
	}
	for _, a := range atts {
		if err := conn.write(websocket.BinaryMessage, a); err != nil {
			return
		}
	}
}

// Conn is the current connection, to send raw packets on.
func (c *Client) Conn() *Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// ID is the socket id of the current connection.
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sid
}

// PID is the private session id, with connection-state recovery on.
func (c *Client) PID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid
}

// Offset is the last recovery offset received (ClientOptions.Offsets).
func (c *Client) Offset() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Name is ClientOptions.Name.
func (c *Client) Name() string { return c.opts.Name }

// SetAckWith changes how the client answers acknowledgement requests
// (nil: never).
func (c *Client) SetAckWith(f func(Event) []any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ackWith = f
}

// Emit sends an event; []byte arguments travel as binary attachments.
func (c *Client) Emit(event string, args ...any) {
	c.send(c.Conn(), parser.Event, 0, false, append([]any{event}, args...))
}

// EmitWithAck sends an event asking for an acknowledgement and waits for
// it, until ctx ends or the client's timeout passes. It returns the
// answer as an Event without a name: its arguments and attachments.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) (Event, error) {
	ch := make(chan Event, 1)
	c.mu.Lock()
	c.ackID++
	id := c.ackID
	c.acks[id] = ch
	conn := c.conn
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
	}()
	c.send(conn, parser.Event, id, true, append([]any{event}, args...))
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case res := <-ch:
		return res, nil
	case <-conn.Done():
		return Event{}, fmt.Errorf("failed to get the ack of %q: connection closed", event)
	case <-ctx.Done():
		return Event{}, fmt.Errorf("failed to get the ack of %q: %w", event, ctx.Err())
	case <-timer.C:
		return Event{}, fmt.Errorf("failed to get the ack of %q within %v", event, c.timeout)
	}
}

// take removes and returns the first event that match accepts, waiting up
// to timeout; with drop, the events of the same name before it go too.
func (c *Client) take(timeout time.Duration, what string, match func(Event) bool, drop bool) (Event, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		for i, ev := range c.events {
			if match(ev) {
				c.events = append(c.events[:i:i], c.events[i+1:]...)
				if drop {
					kept := c.events[:0:0]
					for j, e := range c.events {
						if j >= i || e.Name != ev.Name {
							kept = append(kept, e)
						}
					}
					c.events = kept
				}
				c.mu.Unlock()
				return ev, nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return Event{}, fmt.Errorf("%s: no %s within %v", c.opts.Name, what, timeout)
		}
	}
}

// Next takes the oldest event, waiting up to timeout; with no timeout, it
// takes one only if it is there.
func (c *Client) Next(timeout time.Duration) (Event, error) {
	return c.take(timeout, "event", func(Event) bool { return true }, false)
}

// NextNamed takes the oldest event named name, waiting up to timeout; the
// events of other names stay queued.
func (c *Client) NextNamed(name string, timeout time.Duration) (Event, error) {
	return c.take(timeout, strconv.Quote(name), func(e Event) bool { return e.Name == name }, false)
}

// Expect takes the next event and checks its name.
func (c *Client) Expect(name string) Event {
	c.t.Helper()
	ev, err := c.Next(c.timeout)
	if err != nil {
		c.t.Fatalf("sockiotest: %v", err)
		return ev
	}
	if ev.Name != name {
		c.t.Fatalf("sockiotest: %s: got event %s, want %q", c.opts.Name, ev, name)
	}
	return ev
}

// Await takes the oldest event named name, whatever else came before it
// (those stay queued), failing the test if none comes in time.
func (c *Client) Await(name string) Event {
	c.t.Helper()
	ev, err := c.NextNamed(name, c.timeout)
	if err != nil {
		c.t.Fatalf("sockiotest: %v", err)
	}
	return ev
}

// AwaitFunc takes the first event named name that match accepts; the
// events of that name before it are dropped, the others stay queued.
func (c *Client) AwaitFunc(name string, match func(Event) bool) Event {
	c.t.Helper()
	ev, err := c.take(c.timeout, "matching "+strconv.Quote(name), func(e Event) bool { return e.Name == name && match(e) }, true)
	if err != nil {
		c.t.Fatalf("sockiotest: %v", err)
	}
	return ev
}

// ExpectNone checks that no event comes within d.
func (c *Client) ExpectNone(d time.Duration) {
	c.t.Helper()
	if ev, err := c.Next(d); err == nil {
		c.t.Fatalf("sockiotest: %s: unexpected event %s", c.opts.Name, ev)
	}
}

// Pending is how many events named name wait unread.
func (c *Client) Pending(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ev := range c.events {
		if ev.Name == name {
			n++
		}
	}
	return n
}

// Disconnect leaves the namespace (a DISCONNECT packet, "client namespace
// disconnect" on the server) and closes the connection.
func (c *Client) Disconnect() {
	conn := c.Conn()
	_ = conn.write(websocket.TextMessage, []byte("4"+string(parser.AppendText(nil, &parser.Packet{Type: parser.Disconnect, Namespace: c.nsp}))))
	conn.Close()
}

// Close closes the connection without a DISCONNECT, as a lost network
// would (the server sees "transport close"), and waits for its reader.
func (c *Client) Close() { c.Conn().Close() }

// Done is closed when the current connection has ended.
func (c *Client) Done() <-chan struct{} { return c.Conn().Done() }

// Reconnect closes the connection and connects again to baseURL, asking
// to recover the session (pid and the last offset in the auth); the
// events not read yet stay.
func (c *Client) Reconnect(baseURL string) error {
	c.Close()
	c.mu.Lock()
	auth := map[string]any{}
	for k, v := range c.opts.Auth {
		auth[k] = v
	}
	auth["pid"], auth["offset"] = c.pid, c.offset
	c.mu.Unlock()
	return c.connect(baseURL, auth)
}
