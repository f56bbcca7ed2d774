package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ErrNotConnected is returned by a Reconnecting's sends while it has no
// open connection.
var ErrNotConnected = errors.New("ws: not connected")

// ReconnectOptions configure DialReconnecting. The zero value gives the
// documented defaults.
type ReconnectOptions struct {
	// DialOptions configure every connection. Their handlers see each
	// connection in turn: OnOpen after each (re)connection, OnClose after
	// each loss. The heartbeat (ConnOptions.PingInterval, PongTimeout)
	// finds a dead server and so triggers a reconnection.
	DialOptions
	// MinDelay is the wait before the first reconnection attempt (0 means
	// 500 ms); each failed attempt doubles it, up to MaxDelay (0 means 30 s).
	MinDelay, MaxDelay time.Duration
	// Jitter spreads each wait by up to ± that fraction, so clients cut off
	// together do not all come back at once. 0 means 0.5; negative, none.
	Jitter float64
	// MaxAttempts is how many attempts in a row may fail before giving up;
	// 0 means no limit.
	MaxAttempts int
	// DialTimeout bounds one attempt; 0 means 10 s.
	DialTimeout time.Duration
	// OnReconnecting is called before each wait for an attempt, with the
	// attempt's number in the current series (from 1) and the wait.
	OnReconnecting func(attempt int, delay time.Duration)
	// OnGiveUp is called once after MaxAttempts failed attempts in a row,
	// with the last error; the Reconnecting is then closed.
	OnGiveUp func(err error)
}

// Reconnecting is a client connection that comes back by itself: when the
// connection is lost (or its heartbeat fails) it dials again after an
// exponential backoff with jitter. A reconnection lock ensures one attempt
// at a time, whatever triggers it, and every timer is stopped by Close.
type Reconnecting struct {
	url  string
	opts ReconnectOptions
	b    backoff

	mu         sync.Mutex
	conn       *Conn
	failures   int  // failed attempts in a row
	connecting bool // the reconnection lock: an attempt is waiting or running
	timer      *time.Timer
	cancel     context.CancelFunc // stops a running dial
	closed     bool
	done       chan struct{}
}

// DialReconnecting starts connecting to rawURL in the background and keeps
// the connection up until Close. It returns at once; OnOpen reports each
// connection.
func DialReconnecting(rawURL string, opts *ReconnectOptions) *Reconnecting {
	r := &Reconnecting{url: rawURL, done: make(chan struct{})}
	if opts != nil {
		r.opts = *opts
	}
	r.b = backoff{
		min:    orDur(r.opts.MinDelay, 500*time.Millisecond),
		max:    orDur(r.opts.MaxDelay, 30*time.Second),
		jitter: r.opts.Jitter,
	}
	if r.b.jitter == 0 {
		r.b.jitter = 0.5
	}
	user := r.opts.Handlers
	r.opts.OnOpen = func(c *Conn) { r.opened(c, user.OnOpen) }
	r.opts.OnClose = func(c *Conn, code int, reason string) { r.lost(c, code, reason, user.OnClose) }
	r.mu.Lock()
	r.scheduleLocked(0)
	r.mu.Unlock()
	return r
}

// scheduleLocked takes the reconnection lock and arms the next attempt; if
// the lock is taken, an attempt is already on its way and nothing is done.
func (r *Reconnecting) scheduleLocked(delay time.Duration) {
	if r.closed || r.connecting || r.conn != nil {
		return
	}
	r.connecting = true
	r.timer = time.AfterFunc(delay, r.attempt)
}

func (r *Reconnecting) attempt() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), orDur(r.opts.DialTimeout, 10*time.Second))
	r.cancel = cancel
	r.mu.Unlock()

	_, err := Dial(ctx, r.url, &r.opts.DialOptions)
	cancel()

	r.mu.Lock()
	r.cancel = nil
	if err == nil {
		// opened (on the connection's goroutine) takes it from here.
		r.mu.Unlock()
		return
	}
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.failures++
	if max := r.opts.MaxAttempts; max > 0 && r.failures >= max {
		r.connecting = false
		r.closeLocked()
		r.mu.Unlock()
		if r.opts.OnGiveUp != nil {
			r.opts.OnGiveUp(fmt.Errorf("failed to reconnect after %d attempts: %w", r.failures, err))
		}
		return
	}
	delay := r.b.delay(r.failures)
	r.timer = time.AfterFunc(delay, r.attempt) // the lock stays taken
	n := r.failures + 1
	r.mu.Unlock()
	if r.opts.OnReconnecting != nil {
		r.opts.OnReconnecting(n, delay)
	}
}

func (r *Reconnecting) opened(c *Conn, onOpen func(*Conn)) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = c.Close(CloseNormal, "")
		return
	}
	r.conn, r.failures, r.connecting = c, 0, false
	r.mu.Unlock()
	if onOpen != nil {
		onOpen(c)
	}
}

func (r *Reconnecting) lost(c *Conn, code int, reason string, onClose func(*Conn, int, string)) {
	if onClose != nil {
		onClose(c, code, reason)
	}
	r.mu.Lock()
	if r.conn != c {
		r.mu.Unlock()
		return
	}
	r.conn = nil
	if r.closed {
		close(r.done)
		r.mu.Unlock()
		return
	}
	delay := r.b.delay(0)
	r.scheduleLocked(delay)
	r.mu.Unlock()
	if r.opts.OnReconnecting != nil {
		r.opts.OnReconnecting(1, delay)
	}
}

// Reconnect drops the current connection, if any, and connects again; with
// an attempt already on its way it does nothing.
func (r *Reconnecting) Reconnect() {
	r.mu.Lock()
	c := r.conn
	if c == nil {
		r.scheduleLocked(0)
	}
	r.mu.Unlock()
	if c != nil {
		_ = c.Close(CloseNormal, "reconnecting")
	}
}

// Conn returns the open connection, or nil between connections.
func (r *Reconnecting) Conn() *Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conn
}

// ReadyState is Connecting between connections, the connection's state
// while there is one, and Closed after Close.
func (r *Reconnecting) ReadyState() ReadyState {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.conn != nil:
		return r.conn.ReadyState()
	case r.closed:
		return Closed
	}
	return Connecting
}

// SendText sends on the current connection; ErrNotConnected between
// connections (messages are not kept for the next one).
func (r *Reconnecting) SendText(text []byte) error {
	if c := r.Conn(); c != nil {
		return c.SendText(text)
	}
	return ErrNotConnected
}

// SendBinary sends on the current connection; see SendText.
func (r *Reconnecting) SendBinary(data []byte) error {
	if c := r.Conn(); c != nil {
		return c.SendBinary(data)
	}
	return ErrNotConnected
}

// Writer starts a streamed message on the current connection; see
// Conn.Writer.
func (r *Reconnecting) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if c := r.Conn(); c != nil {
		return c.Writer(ctx, typ)
	}
	return nil, ErrNotConnected
}

// Close stops reconnecting: the pending timer is stopped, a running dial is
// abandoned, and the current connection is closed with code and reason.
// Done is closed once that connection has ended.
func (r *Reconnecting) Close(code int, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	c := r.conn
	r.closeLocked()
	r.mu.Unlock()
	if c != nil {
		_ = c.Close(code, reason)
	}
	return nil
}

// closeLocked stops every timer; done closes now unless a connection has
// yet to end.
func (r *Reconnecting) closeLocked() {
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if r.cancel != nil {
		r.cancel()
	}
	if r.conn == nil {
		close(r.done)
	}
}

// Done is closed after Close (or giving up), once the last connection ended.
func (r *Reconnecting) Done() <-chan struct{} { return r.done }
