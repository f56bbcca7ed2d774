package client

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/sockio/sockio/client/internal/engine"
)

type managerState uint8

const (
	stateClosed managerState = iota
	stateOpening
	stateOpen
)

// Manager holds one Engine.IO connection to a server and multiplexes the
// sockets of its namespaces over it, as the reference client's Manager
// does. It reconnects on its own when the connection is lost, one attempt
// at a time, and every socket that was connected joins its namespace
// again.
//
// A Manager is safe for concurrent use.
type Manager struct {
	opts     Options
	origin   *url.URL
	query    url.Values
	httpc    *http.Client
	ownHTTP  *http.Transport // ours to close; nil when the caller gave a client
	backoff  backoff
	lifeCtx  context.Context // ends with Close
	lifeStop context.CancelFunc
	bg       tracker // dials and auth calls

	mu            sync.Mutex
	state         managerState
	closed        bool // Close was called: final
	conn          *engine.Conn
	connCtx       context.Context // ends when conn closes
	connStop      context.CancelFunc
	gen           uint64 // connection generation: stale callbacks are ignored
	nsps          map[string]*Socket
	reconnecting  bool
	skipReconnect bool
	attempts      int
	timer         *time.Timer
	timerGen      uint64
	dialStop      context.CancelFunc
	draining      []*engine.Conn // shut down, to be waited for

	events   worker // manager events run here, in order
	hmu      sync.Mutex
	handlers map[string][]any
}

// NewManager returns a manager for the server at rawURL (its path is not
// used: each Socket names its namespace). Nothing connects until a socket
// does.
func NewManager(rawURL string, opts Options) (*Manager, error) {
	m, _, err := newManager(rawURL, opts)
	return m, err
}

func newManager(rawURL string, opts Options) (*Manager, string, error) {
	origin, nsp, q, err := parseURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	opts = opts.withDefaults()
	query := url.Values{}
	for k, v := range opts.Query {
		query[k] = slices.Clone(v)
	}
	for k, v := range q {
		if _, ok := query[k]; !ok {
			query[k] = v
		}
	}
	m := &Manager{
		opts:     opts,
		origin:   origin,
		query:    query,
		httpc:    opts.HTTPClient,
		backoff:  backoff{min: opts.ReconnectionDelay, max: opts.ReconnectionDelayMax, jitter: opts.RandomizationFactor},
		nsps:     make(map[string]*Socket),
		handlers: make(map[string][]any),
	}
	if m.httpc == nil {
		m.ownHTTP = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
		m.httpc = &http.Client{Transport: m.ownHTTP}
	}
	m.lifeCtx, m.lifeStop = context.WithCancel(context.Background())
	return m, nsp, nil
}

// Socket returns the socket of namespace nsp, creating it on first use
// (later calls return the same socket and ignore opts). It does not
// connect: call Connect or Open.
func (m *Manager) Socket(nsp string, opts SocketOptions) *Socket {
	nsp = normalizeNamespace(nsp)
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.nsps[nsp]; s != nil {
		return s
	}
	s := &Socket{m: m, nsp: nsp, opts: opts.withDefaults()}
	m.nsps[nsp] = s
	return s
}

// Transport returns the name of the connection's transport ("polling" or
// "websocket"), or "" while there is no connection.
func (m *Manager) Transport() string {
	if c := m.currentConn(); c != nil {
		return c.Transport()
	}
	return ""
}

// SessionID returns the Engine.IO session id, or "" while there is no
// connection.
func (m *Manager) SessionID() string {
	if c := m.currentConn(); c != nil {
		return c.ID()
	}
	return ""
}

// Close disconnects every socket (reason "forced close"), closes the
// connection after flushing what it has queued, stops reconnecting, and
// waits until every goroutine and timer of the manager is gone. It is
// final: sockets of a closed manager cannot connect again.
func (m *Manager) Close() error {
	m.closeEngine(ReasonForcedClose, true)
	m.mu.Lock()
	socks := m.socketsLocked()
	m.mu.Unlock()
	for _, s := range socks {
		s.release(ErrClosed) // they cannot reconnect: no buffer, no timer left
	}
	m.wait()
	return nil
}

// currentConn returns the open connection, or nil.
func (m *Manager) currentConn() *engine.Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != stateOpen {
		return nil
	}
	return m.conn
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// socketsLocked snapshots the sockets; their methods are called after
// m.mu is released (lock order: a socket's mu, then the manager's).
func (m *Manager) socketsLocked() []*Socket {
	return slices.Collect(maps.Values(m.nsps))
}

// activate makes sure the connection is open or opening for a socket that
// wants to connect, and sends its CONNECT if it is open already.
func (m *Manager) activate(s *Socket) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	if m.state == stateClosed && !m.reconnecting {
		m.startDialLocked(false)
	}
	open := m.state == stateOpen
	conn, ctx, gen := m.conn, m.connCtx, m.gen
	m.mu.Unlock()
	if open {
		s.onOpen(conn, ctx, gen)
	}
	return nil
}

// startDialLocked starts one connection attempt.
func (m *Manager) startDialLocked(reconnect bool) {
	m.state = stateOpening
	m.skipReconnect = false
	m.gen++
	gen := m.gen
	ctx, stop := context.WithTimeout(m.lifeCtx, m.opts.Timeout)
	m.dialStop = stop
	m.bg.Go(func() { m.dial(ctx, stop, gen, reconnect) })
}

func (m *Manager) engineOptions() engine.Options {
	u := *m.origin
	u.Path = m.opts.Path
	return engine.Options{
		URL:                &u,
		Query:              m.query,
		Header:             m.opts.Header,
		Transports:         m.opts.Transports,
		DisableUpgrade:     m.opts.DisableUpgrade,
		DialWebTransport:   m.opts.webTransportDial(),
		HTTPClient:         m.httpc,
		MaxMessageSize:     m.opts.MaxMessageSize,
		MaxBufferedPackets: m.opts.MaxBufferedPackets,
		MaxBufferedBytes:   m.opts.MaxBufferedBytes,
	}
}

// dial runs one connection attempt and reports its outcome.
func (m *Manager) dial(ctx context.Context, stop context.CancelFunc, gen uint64, reconnect bool) {
	defer stop()
	conn, err := engine.Dial(ctx, m.engineOptions(), m.engineHandler(gen))
	m.mu.Lock()
	if gen != m.gen || m.closed {
		// Closed meanwhile: nothing waits for this connection.
		m.mu.Unlock()
		if conn != nil {
			conn.Shutdown()
		}
		return
	}
	m.dialStop = nil
	if err != nil {
		m.state = stateClosed
		if reconnect {
			m.reconnecting = false
		}
		m.emit("error", err)
		socks := m.socketsLocked()
		giveUp := m.opts.DisableReconnection
		m.mu.Unlock()
		for _, s := range socks {
			s.onManagerError(err, giveUp)
		}
		if reconnect {
			m.mu.Lock()
			failed := m.reconnectLocked()
			m.emit("reconnect_error", err)
			m.mu.Unlock()
			m.notifyFailed(failed, err)
		} else {
			m.maybeReconnectOnOpen(err)
		}
		return
	}
	m.conn = conn
	m.state = stateOpen
	m.connCtx, m.connStop = context.WithCancel(m.lifeCtx)
	ctx = m.connCtx
	attempt := m.attempts
	if reconnect {
		m.reconnecting = false
		m.attempts = 0
	}
	m.emit("open", nil)
	socks := m.socketsLocked()
	m.mu.Unlock()
	for _, s := range socks {
		s.onOpen(conn, ctx, gen)
	}
	conn.Start()
	if reconnect {
		m.emit("reconnect", attempt)
	}
}

// engineHandler returns the callbacks of connection gen; each connection
// has its own decoder.
func (m *Manager) engineHandler(gen uint64) engine.Handler {
	var (
		dmu sync.Mutex
		dec = m.codec().NewDecoder(m.opts.MaxAttachments)
	)
	return engine.Handler{
		OnMessage: func(ctx context.Context, data []byte, binary bool) {
			dmu.Lock()
			p, err := dec.Add(data, binary)
			dmu.Unlock()
			if err != nil {
				m.onEngineClose(gen, ReasonParseError, err)
				return
			}
			if p == nil {
				return
			}
			m.mu.Lock()
			s := m.nsps[p.Namespace]
			stale := gen != m.gen
			m.mu.Unlock()
			if s != nil && !stale {
				s.onPacket(ctx, p)
			}
		},
		OnPing:    func() { m.emit("ping", nil) },
		OnUpgrade: func(name string) { m.emit("upgrade", name) },
		OnClose:   func(reason string, err error) { m.onEngineClose(gen, reason, err) },
	}
}

// onEngineClose handles the loss of connection gen: the sockets are
// disconnected and, unless told otherwise, a reconnection starts.
func (m *Manager) onEngineClose(gen uint64, reason string, err error) {
	m.mu.Lock()
	if gen != m.gen || m.state != stateOpen {
		m.mu.Unlock()
		return
	}
	conn := m.conn
	m.conn = nil
	m.connStop()
	m.state = stateClosed
	m.attempts = 0
	if err != nil && reason == ReasonTransportError {
		m.emit("error", err)
	}
	m.emit("close", reason)
	socks := m.socketsLocked()
	m.mu.Unlock()

	conn.Abort() // a parse error leaves it open; otherwise it is over already
	for _, s := range socks {
		s.onEngineClose(reason)
	}
	m.mu.Lock()
	failed := false
	if !m.opts.DisableReconnection && !m.skipReconnect {
		failed = m.reconnectLocked()
	}
	m.mu.Unlock()
	m.notifyFailed(failed, err)
}

// maybeReconnectOnOpen starts reconnecting after a failed first attempt.
func (m *Manager) maybeReconnectOnOpen(err error) {
	m.mu.Lock()
	failed := false
	if !m.reconnecting && !m.opts.DisableReconnection && m.attempts == 0 {
		failed = m.reconnectLocked()
	}
	m.mu.Unlock()
	m.notifyFailed(failed, err)
}

// reconnectLocked schedules the next attempt, or gives up when the
// attempts are used up (it then reports true).
func (m *Manager) reconnectLocked() (failed bool) {
	if m.reconnecting || m.skipReconnect || m.closed || m.opts.DisableReconnection {
		return false
	}
	if max := m.opts.ReconnectionAttempts; max > 0 && m.attempts >= max {
		m.attempts = 0
		m.reconnecting = false
		m.emit("reconnect_failed", nil)
		return true
	}
	delay := m.backoff.duration(m.attempts)
	m.attempts++
	m.reconnecting = true
	m.timerGen++
	tg := m.timerGen
	m.timer = time.AfterFunc(delay, func() { m.onReconnectTimer(tg) })
	return false
}

func (m *Manager) onReconnectTimer(tg uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tg != m.timerGen || m.skipReconnect || m.closed || m.state != stateClosed {
		return
	}
	m.timer = nil
	m.emit("reconnect_attempt", m.attempts)
	m.startDialLocked(true)
}

// notifyFailed tells the sockets waiting in Connect that reconnection
// gave up.
func (m *Manager) notifyFailed(failed bool, last error) {
	if !failed {
		return
	}
	err := ErrReconnectFailed
	if last != nil {
		err = fmt.Errorf("%w: %w", ErrReconnectFailed, last)
	}
	m.mu.Lock()
	socks := m.socketsLocked()
	m.mu.Unlock()
	for _, s := range socks {
		s.notifyWaiters(err)
	}
}

// forget removes a closed socket from the manager.
func (m *Manager) forget(s *Socket) {
	m.mu.Lock()
	if m.nsps[s.nsp] == s {
		delete(m.nsps, s.nsp)
	}
	m.mu.Unlock()
}

// anyActive reports whether some socket of the manager is active.
func (m *Manager) anyActive() bool {
	m.mu.Lock()
	socks := m.socketsLocked()
	m.mu.Unlock()
	return slices.ContainsFunc(socks, (*Socket).Active)
}

// destroy is called when socket s stops (disconnected by either side or
// refused): when no socket of the manager is active any more, the
// connection closes, as in the reference.
func (m *Manager) destroy() {
	if !m.anyActive() {
		m.closeEngine(ReasonForcedClose, false)
	}
}

// closeEngine stops the connection (flushing it in the background) and
// any reconnection. final also forbids any new connection.
func (m *Manager) closeEngine(reason string, final bool) {
	m.mu.Lock()
	m.skipReconnect = true
	m.reconnecting = false
	m.attempts = 0
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
	m.timerGen++
	if m.dialStop != nil {
		m.dialStop()
		m.dialStop = nil
	}
	if final {
		m.closed = true
		m.lifeStop()
	}
	m.gen++ // callbacks of the old connection become stale
	conn := m.conn
	m.conn = nil
	if m.connStop != nil {
		m.connStop()
	}
	m.state = stateClosed
	var socks []*Socket
	if conn != nil {
		m.draining = append(m.draining, conn)
		m.emit("close", reason)
		socks = m.socketsLocked()
	}
	m.mu.Unlock()
	if conn != nil {
		conn.Shutdown()
	}
	for _, s := range socks {
		s.onEngineClose(reason)
	}
}

// wait waits for the connections being closed and the manager's
// goroutines, then drops idle HTTP connections.
func (m *Manager) wait() {
	m.mu.Lock()
	conns := slices.Clone(m.draining)
	m.mu.Unlock()
	for _, c := range conns {
		c.Close() // idempotent: concurrent callers all wait for the end
	}
	m.mu.Lock()
	m.draining = slices.DeleteFunc(m.draining, func(c *engine.Conn) bool { return slices.Contains(conns, c) })
	m.mu.Unlock()
	m.bg.Wait()
	if m.ownHTTP != nil {
		m.ownHTTP.CloseIdleConnections()
	}
}
