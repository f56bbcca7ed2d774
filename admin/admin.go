// Package admin is the server side of the official Socket.IO Admin UI
// (@socket.io/admin-ui 0.5): what the reference's instrument() does, for a
// sockio Server. It adds the /admin namespace with basic authentication
// (bcrypt-hashed password), emits the server's stats every two seconds,
// reports sockets, rooms and events, and carries out the UI's actions (emit,
// join, leave, disconnect) unless read-only.
//
// Across a cluster each node runs Instrument: its stats and socket events are
// broadcast in the admin namespace through the adapter, so a UI connected to
// any node sees all of them; the actions and the initial socket list go
// through the adapter too (In(...).DisconnectSockets, FetchSockets).
package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/engineio"
)

// Features the UI enables its controls by (typed-events.ts of the reference).
const (
	FeatureEmit             = "EMIT"
	FeatureJoin             = "JOIN"
	FeatureLeave            = "LEAVE"
	FeatureDisconnect       = "DISCONNECT"
	FeatureMJoin            = "MJOIN"
	FeatureMLeave           = "MLEAVE"
	FeatureMDisconnect      = "MDISCONNECT"
	FeatureAggregatedEvents = "AGGREGATED_EVENTS"
	FeatureAllEvents        = "ALL_EVENTS"
)

// Options configure Instrument.
type Options struct {
	// Namespace is the admin namespace, "/admin" by default.
	Namespace string
	// Username and PasswordHash (bcrypt, as `htpasswd -bnBC 10 "" pw`)
	// are the credentials the UI logs in with. Both are required unless
	// NoAuth is set.
	Username     string
	PasswordHash string
	// NoAuth lets anyone connect: only for a trusted network.
	NoAuth bool
	// ReadOnly announces no action to the UI and ignores the actions sent.
	ReadOnly bool
	// ServerID names this node in the UI (the hostname by default).
	ServerID string
	// Production is the reference's mode "production": stats only, no
	// per-socket reports (socket list, rooms, events), which cost a
	// broadcast in the admin namespace per socket event.
	Production bool
	// StatsInterval is how often the stats are emitted (2s, as the
	// reference; the UI plots them at that pace).
	StatsInterval time.Duration
}

// Admin is an instrumented server. Close stops its timer.
type Admin struct {
	srv      *sockio.Server
	nsp      *sockio.Namespace
	opts     Options
	hash     []byte
	features []string
	started  time.Time
	hostname string

	sessions sessionStore

	mu     sync.Mutex
	hooked map[*sockio.Namespace]bool
	known  map[*sockio.Socket]*seen // local sockets as last reported
	last   engineio.Stats
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

// seen is what the UI was last told about a local socket.
type seen struct {
	rooms     []string
	transport string
}

// processStart approximates the process's start for the uptime the UI shows.
var processStart = time.Now()

// Instrument sets up the admin namespace on srv. Call it before serving, on
// every node of a cluster.
func Instrument(srv *sockio.Server, o Options) (*Admin, error) {
	if o.Namespace == "" {
		o.Namespace = "/admin"
	}
	if o.StatsInterval <= 0 {
		o.StatsInterval = 2 * time.Second
	}
	a := &Admin{
		srv:     srv,
		opts:    o,
		started: processStart,
		hooked:  map[*sockio.Namespace]bool{},
		known:   map[*sockio.Socket]*seen{},
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	a.sessions.items = map[string]time.Time{}
	a.hostname, _ = os.Hostname()
	if a.opts.ServerID == "" {
		a.opts.ServerID = a.hostname
	}
	if !o.NoAuth {
		if o.Username == "" || o.PasswordHash == "" {
			return nil, errors.New("admin: a username and a bcrypt password hash are required (or NoAuth)")
		}
		if _, err := bcrypt.Cost([]byte(o.PasswordHash)); err != nil {
			return nil, fmt.Errorf("admin: the password must be a valid bcrypt hash: %w", err)
		}
		a.hash = []byte(o.PasswordHash)
	}
	if !o.ReadOnly {
		a.features = []string{FeatureEmit, FeatureJoin, FeatureLeave, FeatureDisconnect,
			FeatureMJoin, FeatureMLeave, FeatureMDisconnect}
	}
	a.features = append(a.features, FeatureAggregatedEvents)
	if !o.Production {
		a.features = append(a.features, FeatureAllEvents)
	}

	a.nsp = srv.Of(o.Namespace)
	if !o.NoAuth {
		a.nsp.Use(a.authenticate)
	}
	a.nsp.OnConnection(a.onAdminConnection)
	a.last = srv.Engine().Stats()
	if !o.Production {
		a.hookNamespaces()
	}
	go a.run()
	return a, nil
}

// Close stops the stats; the admin namespace stays.
func (a *Admin) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	close(a.stop)
	<-a.done
}

// Features returns the features announced to the UI.
func (a *Admin) Features() []string { return slices.Clone(a.features) }

func (a *Admin) authenticate(s *sockio.Socket) error {
	auth := s.Handshake().Auth
	if sid, _ := auth["sessionId"].(string); sid != "" && a.sessions.valid(sid) {
		return nil
	}
	user, _ := auth["username"].(string)
	pw, _ := auth["password"].(string)
	// The hash is compared whatever the username, so that the time taken
	// does not tell whether the username was right.
	pwOK := bcrypt.CompareHashAndPassword(a.hash, []byte(pw)) == nil
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(a.opts.Username)) == 1
	if pwOK && userOK {
		return nil
	}
	// The UI shows its login form again on this message.
	return errors.New("invalid credentials")
}

func (a *Admin) onAdminConnection(s *sockio.Socket) {
	if !a.opts.NoAuth {
		// Past the middleware without a valid session id means it logged in
		// with the credentials: give it a session for its reconnections.
		if sid, _ := s.Handshake().Auth["sessionId"].(string); sid == "" || !a.sessions.valid(sid) {
			id := a.sessions.create()
			_ = s.Emit("session", id)
		}
	}
	if !a.opts.ReadOnly {
		a.registerActions(s)
	}
	_ = s.Emit("config", map[string]any{"supportedFeatures": a.features})
	if !a.opts.Production {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Emit("all_sockets", a.allSockets(ctx))
	}
}

// namespace returns an existing namespace by name: the UI must not create
// namespaces by naming them.
func (a *Admin) namespace(name string) *sockio.Namespace {
	for _, n := range a.srv.Namespaces() {
		if n.Name() == name {
			return n
		}
	}
	return nil
}

// target is the UI's selection: a namespace, and a room (a socket's own
// room when it acts on one socket) or everything.
func (a *Admin) target(nsp, filter string) selection {
	n := a.namespace(nsp)
	if n == nil {
		return nil
	}
	if filter != "" {
		return n.In(filter)
	}
	return n
}

// selection is what a Namespace and a BroadcastOperator share.
type selection interface {
	Emit(event string, args ...any) error
	SocketsJoin(rooms ...string)
	SocketsLeave(rooms ...string)
	DisconnectSockets(close bool)
}

func (a *Admin) registerActions(s *sockio.Socket) {
	str := func(e *sockio.Event, i int) string {
		var v string
		if i < e.Args.Len() {
			_ = e.Args.Decode(i, &v)
		}
		return v
	}
	s.On("emit", func(e *sockio.Event) {
		op := a.target(str(e, 0), str(e, 1))
		ev := str(e, 2)
		if op == nil || ev == "" {
			return
		}
		var rest []any
		if e.Args.Len() > 3 {
			vals, err := e.Args.Tail(3).Values()
			if err != nil {
				return
			}
			rest = vals
		}
		_ = op.Emit(ev, rest...)
	})
	s.On("join", func(e *sockio.Event) {
		if op, room := a.target(str(e, 0), str(e, 2)), str(e, 1); op != nil && room != "" {
			op.SocketsJoin(room)
		}
	})
	s.On("leave", func(e *sockio.Event) {
		if op, room := a.target(str(e, 0), str(e, 2)), str(e, 1); op != nil && room != "" {
			op.SocketsLeave(room)
		}
	})
	s.On("_disconnect", func(e *sockio.Event) {
		var closeConn bool
		if e.Args.Len() > 1 {
			_ = e.Args.Decode(1, &closeConn)
		}
		if op := a.target(str(e, 0), str(e, 2)); op != nil {
			op.DisconnectSockets(closeConn)
		}
	})
}

func (a *Admin) run() {
	defer close(a.done)
	t := time.NewTicker(a.opts.StatsInterval)
	defer t.Stop()
	a.tick()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.tick()
		}
	}
}

func (a *Admin) tick() {
	if !a.opts.Production {
		a.hookNamespaces()
		a.diffSockets()
	}
	a.emitStats()
}

type namespaceDetails struct {
	Name         string `json:"name"`
	SocketsCount int    `json:"socketsCount"`
}

type aggregatedEvent struct {
	Timestamp int64  `json:"timestamp"`
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     uint64 `json:"count"`
}

type serverStats struct {
	ServerID            string             `json:"serverId"`
	Hostname            string             `json:"hostname"`
	PID                 int                `json:"pid"`
	Uptime              float64            `json:"uptime"`
	ClientsCount        int                `json:"clientsCount"`
	PollingClientsCount int                `json:"pollingClientsCount"`
	AggregatedEvents    []aggregatedEvent  `json:"aggregatedEvents"`
	Namespaces          []namespaceDetails `json:"namespaces"`
}

// stats reads the engine's counters and turns what changed since the last
// call into the reference's aggregated events, stamped with this second.
func (a *Admin) stats() serverStats {
	es := a.srv.Engine().Stats()
	a.mu.Lock()
	prev := a.last
	a.last = es
	a.mu.Unlock()

	ts := time.Now().Truncate(time.Second).UnixMilli()
	var evs []aggregatedEvent
	add := func(typ, sub string, now, before uint64) {
		if now > before {
			evs = append(evs, aggregatedEvent{Timestamp: ts, Type: typ, SubType: sub, Count: now - before})
		}
	}
	var opened, openedBefore uint64
	for _, v := range es.Opened {
		opened += v
	}
	for _, v := range prev.Opened {
		openedBefore += v
	}
	add("rawConnection", "", opened, openedBefore)
	for reason, v := range es.Closed {
		add("rawDisconnection", reason, v, prev.Closed[reason])
	}
	add("packetsIn", "", es.PacketsIn, prev.PacketsIn)
	add("packetsOut", "", es.PacketsOut, prev.PacketsOut)
	add("bytesIn", "", es.BytesIn, prev.BytesIn)
	add("bytesOut", "", es.BytesOut, prev.BytesOut)
	if evs == nil {
		evs = []aggregatedEvent{}
	}

	clients := 0
	for _, n := range es.Sessions {
		clients += n
	}
	nsps := []namespaceDetails{}
	for _, n := range a.srv.Namespaces() {
		nsps = append(nsps, namespaceDetails{Name: n.Name(), SocketsCount: len(n.Sockets())})
	}
	slices.SortFunc(nsps, func(x, y namespaceDetails) int { return strings.Compare(x.Name, y.Name) })
	return serverStats{
		ServerID:            a.opts.ServerID,
		Hostname:            a.hostname,
		PID:                 os.Getpid(),
		Uptime:              time.Since(a.started).Seconds(),
		ClientsCount:        clients,
		PollingClientsCount: es.Sessions[engineio.Polling],
		AggregatedEvents:    evs,
		Namespaces:          nsps,
	}
}

func (a *Admin) emitStats() {
	// Through the adapter: every node's admin sockets hear every node.
	_ = a.nsp.Emit("server_stats", a.stats())
}

// hookNamespaces registers the per-socket reports on the namespaces not yet
// hooked: there is no event for a new namespace, so each tick looks.
func (a *Admin) hookNamespaces() {
	for _, n := range a.srv.Namespaces() {
		a.mu.Lock()
		done := a.hooked[n]
		a.hooked[n] = true
		a.mu.Unlock()
		if done {
			continue
		}
		n.OnConnection(a.onSocket)
		n.OnDisconnect(a.onSocketGone)
	}
}

func (a *Admin) onSocket(s *sockio.Socket) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	if _, ok := a.known[s]; ok {
		a.mu.Unlock()
		return
	}
	ser := a.serializeLocal(s)
	a.known[s] = &seen{rooms: ser.Rooms, transport: ser.Transport}
	a.mu.Unlock()
	_ = a.nsp.Emit("socket_connected", ser, time.Now())

	if s.Namespace() == a.nsp {
		return
	}
	nspName, id := s.Namespace().Name(), s.ID()
	s.OnAny(func(e *sockio.Event) {
		vals, err := e.Args.Values()
		if err != nil {
			return
		}
		_ = a.nsp.Emit("event_received", nspName, id, append([]any{e.Name}, vals...), time.Now())
	})
	s.OnAnyOutgoing(func(event string, args sockio.Args) {
		vals, err := args.Values()
		if err != nil {
			return
		}
		_ = a.nsp.Emit("event_sent", nspName, id, append([]any{event}, vals...), time.Now())
	})
}

func (a *Admin) onSocketGone(s *sockio.Socket, reason string) {
	a.mu.Lock()
	_, ok := a.known[s]
	delete(a.known, s)
	closed := a.closed
	a.mu.Unlock()
	if ok && !closed {
		_ = a.nsp.Emit("socket_disconnected", s.Namespace().Name(), s.ID(), reason, time.Now())
	}
}

// diffSockets reports what changed on the local sockets since the last
// tick: rooms joined and left, a transport upgraded, and sockets that
// connected before their namespace was hooked. There is no room event in
// the public API, so room changes reach the UI within one tick.
func (a *Admin) diffSockets() {
	now := time.Now()
	for _, n := range a.srv.Namespaces() {
		for _, s := range n.Sockets() {
			if !s.Connected() {
				continue
			}
			a.mu.Lock()
			prev, ok := a.known[s]
			a.mu.Unlock()
			if !ok {
				a.onSocket(s)
				continue
			}
			rooms := s.Rooms()
			transport := transportOf(s)
			for _, r := range rooms {
				if !slices.Contains(prev.rooms, r) {
					_ = a.nsp.Emit("room_joined", n.Name(), r, s.ID(), now)
				}
			}
			for _, r := range prev.rooms {
				if !slices.Contains(rooms, r) {
					_ = a.nsp.Emit("room_left", n.Name(), r, s.ID(), now)
				}
			}
			if transport != prev.transport {
				_ = a.nsp.Emit("socket_updated", map[string]any{"id": s.ID(), "nsp": n.Name(), "transport": transport})
			}
			a.mu.Lock()
			if cur, ok := a.known[s]; ok {
				cur.rooms, cur.transport = rooms, transport
			}
			a.mu.Unlock()
		}
	}
}

// SerializedSocket is a socket as the UI reads it.
type SerializedSocket struct {
	ID        string              `json:"id"`
	ClientID  string              `json:"clientId"`
	Transport string              `json:"transport"`
	Nsp       string              `json:"nsp"`
	Data      any                 `json:"data"`
	Handshake serializedHandshake `json:"handshake"`
	Rooms     []string            `json:"rooms"`
}

type serializedHandshake struct {
	Address string            `json:"address"`
	Headers map[string]string `json:"headers"`
	Query   map[string]string `json:"query"`
	Issued  int64             `json:"issued"`
	Secure  bool              `json:"secure"`
	Time    string            `json:"time"`
	URL     string            `json:"url"`
	XDomain bool              `json:"xdomain"`
}

func transportOf(s *sockio.Socket) string {
	if c := s.Client(); c != nil && c.Conn() != nil {
		return c.Conn().Transport()
	}
	return ""
}

func (a *Admin) serializeLocal(s *sockio.Socket) SerializedSocket {
	clientID := s.ID()
	if c := s.Client(); c != nil && c.Conn() != nil {
		clientID = c.Conn().ID()
	}
	return serialize(s.Namespace().Name(), s.ID(), clientID, transportOf(s), s.Handshake(), s.Rooms(), s.Data())
}

func serialize(nsp, id, clientID, transport string, hs *sockio.Handshake, rooms []string, data any) SerializedSocket {
	// The reference shows the first 12 characters of the client id.
	if len(clientID) > 12 {
		clientID = clientID[:12]
	}
	if rooms == nil {
		rooms = []string{}
	}
	if data == nil {
		data = map[string]any{}
	}
	out := SerializedSocket{ID: id, ClientID: clientID, Transport: transport, Nsp: nsp, Data: data, Rooms: rooms}
	if hs != nil {
		out.Handshake = serializedHandshake{
			Address: hs.Address,
			Headers: flatten(hs.Headers),
			Query:   flatten(http.Header(hs.Query)),
			Issued:  hs.Time.UnixMilli(),
			Secure:  hs.Secure,
			Time:    hs.Time.Format(time.RFC1123),
			URL:     hs.URL,
			XDomain: hs.XDomain,
		}
		// Behind a proxy the client's address is in these, as the reference reads.
		if v := hs.Headers.Get("Cf-Connecting-Ip"); v != "" {
			out.Handshake.Address = v
		} else if v := hs.Headers.Get("X-Forwarded-For"); v != "" {
			out.Handshake.Address = v
		}
	}
	return out
}

func flatten(h map[string][]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return out
}

// allSockets lists the sockets of every namespace, on every node (through
// the adapter). Local sockets carry their client id and transport; a remote
// socket's are not in what FetchSockets returns, so its id stands for its
// client id (its node reported it in full when it connected).
func (a *Admin) allSockets(ctx context.Context) []SerializedSocket {
	out := []SerializedSocket{}
	for _, n := range a.srv.Namespaces() {
		rs, err := n.FetchSockets(ctx)
		if err != nil {
			continue
		}
		for _, r := range rs {
			if s := n.Socket(r.ID); s != nil {
				out = append(out, a.serializeLocal(s))
				continue
			}
			out = append(out, serialize(n.Name(), r.ID, r.ID, "", r.Handshake, r.Rooms, r.Data))
		}
	}
	return out
}

// sessionStore keeps the session ids given to logged-in UIs, so that a UI
// reconnects without the password. In memory, per node (the reference's
// InMemoryStore); bounded, and each id expires after a day.
type sessionStore struct {
	mu    sync.Mutex
	items map[string]time.Time
}

const (
	sessionTTL  = 24 * time.Hour
	maxSessions = 1024
)

func (st *sessionStore) create() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.items) >= maxSessions {
		var oldest string
		var oldestAt time.Time
		for k, exp := range st.items {
			if exp.Before(now) {
				delete(st.items, k)
				continue
			}
			if oldest == "" || exp.Before(oldestAt) {
				oldest, oldestAt = k, exp
			}
		}
		if len(st.items) >= maxSessions {
			delete(st.items, oldest)
		}
	}
	st.items[id] = now.Add(sessionTTL)
	return id
}

func (st *sessionStore) valid(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	exp, ok := st.items[id]
	if ok && time.Now().After(exp) {
		delete(st.items, id)
		return false
	}
	return ok
}
