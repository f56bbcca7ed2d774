package chat

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/engineio"
)

// Options configure a Chat. The zero value gives the defaults.
type Options struct {
	// History stores the messages replayed on join (default in memory).
	History History
	// HistorySize is how many messages a joiner gets (default 100).
	HistorySize int
	// MaxMessageLength is the longest message, in characters (default 1000).
	MaxMessageLength int
	// DefaultRoom is where clients start (default "lobby").
	DefaultRoom string
	// Logger reports history failures (default slog.Default()).
	Logger *slog.Logger

	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client, for the per-address rate limits. Default none:
	// the header is ignored, since anyone can send it, and honouring it
	// from anyone would let a script claim a new address per connection.
	// Set it only when every client comes through these proxies.
	TrustedProxies []netip.Prefix
	// CheckOrigin decides which pages may open the plain-WebSocket chat
	// (NewPlain); nil allows the chat's own pages and non-browser clients
	// only, as ws.Server does. The Socket.IO chat follows the server's
	// AllowedOrigins instead.
	CheckOrigin func(r *http.Request) bool
	// MaxAddresses bounds the client addresses whose rate limits are
	// remembered (default 10000, about 3 MB): past it, the address used
	// least recently is forgotten.
	MaxAddresses int
	// ListInterval is the shortest time between two online lists sent
	// to a room, and between two room lists (default 250 ms): the lists
	// of a burst of joins are sent once, not once per join.
	ListInterval time.Duration
	// HistoryQueue bounds the messages waiting to be written to History
	// (default 1000). Messages are delivered first and written behind;
	// when the History is so slow that the queue is full, the oldest
	// waiting message is left out of the history (and counted in the log).
	HistoryQueue int
	// DepartureGrace delays the "left" line of a socket whose connection
	// was lost (not closed by its page) by this long, and drops it if the
	// socket came back meanwhile, recovered on any node or replaced by the
	// same page: with connection-state recovery, a blip is then no news to
	// the room, and the page is not replayed its own departure. The online
	// lists change at once either way. Default 0: told at once.
	DepartureGrace time.Duration
}

// withDefaults fills in the zero fields of o.
func (o Options) withDefaults() Options {
	if o.HistorySize <= 0 {
		o.HistorySize = 100
	}
	if o.History == nil {
		o.History = NewMemoryHistory(o.HistorySize, 0)
	}
	if o.MaxMessageLength <= 0 {
		o.MaxMessageLength = 1000
	}
	if o.DefaultRoom == "" {
		o.DefaultRoom = "lobby"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Chat serves the chat events on one namespace.
type Chat struct {
	nsp  *sockio.Namespace
	opts Options

	// claimMu makes "look at the names in use, take one" atomic on this
	// node. Across a cluster two nodes may still hand out one name twice
	// in the same instant; the names stay usable (private messages then
	// reach both).
	claimMu sync.Mutex
	// snapMu guards the snapshot recentSnapshot shares.
	snapMu   sync.Mutex
	snap     *roster
	snapAt   time.Time
	arriving atomic.Int32 // connection handlers running
	// orderMu makes "deliver, then queue for the history" one step, so
	// the history keeps the order in which this node delivered.
	orderMu sync.Mutex

	limits  *limits
	lists   *lists
	history *historyQueue
}

// New serves the chat on nsp.
func New(nsp *sockio.Namespace, opts Options) *Chat {
	opts = opts.withDefaults()
	c := &Chat{nsp: nsp, opts: opts, limits: newLimits(opts.MaxAddresses)}
	c.lists = newLists(opts.ListInterval, c.sendLists)
	c.history = newHistoryQueue(opts.History, opts.Logger, opts.HistoryQueue)
	nsp.OnConnection(c.onConnection)
	return c
}

// Flush waits until every message delivered so far is written to the
// History (or given up), or ctx ends. Call it after closing the server,
// so a shutdown keeps the last messages.
func (c *Chat) Flush(ctx context.Context) error { return c.history.flush(ctx) }

// Welcome is what a client gets on connecting and as the answer to join.
type Welcome struct {
	Name      string     `json:"name"`
	Room      string     `json:"room"`
	History   []Message  `json:"history"`
	Users     []User     `json:"users"` // at most MaxListedUsers
	UserCount int        `json:"userCount"`
	Rooms     []RoomInfo `json:"rooms"` // at most MaxListedRooms
	MaxLength int        `json:"maxLength"`
}

type textIn struct {
	Text string `json:"text"`
	To   string `json:"to"`
}

func reply(err string) map[string]any { return map[string]any{"error": err} }

// Refusals of the rate limits.
const (
	slowMessages = "slow down: too many messages"
	slowJoins    = "slow down: too many room changes"
	slowRenames  = "slow down: too many renames"
	slowRooms    = "slow down: too many room list requests"
)

func (c *Chat) context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

func now() int64 { return time.Now().UnixMilli() }

func (c *Chat) onConnection(s *sockio.Socket) {
	auth := identity(s) // a v2 client's comes from its query (v2.go)
	want := cleanName(authString(auth, "name"))
	if want == "" {
		want = "guest " + randomDigits(4)
	}
	clientID := authString(auth, "clientId")
	if len(clientID) > 64 {
		clientID = clientID[:64]
	}
	room := cleanRoom(authString(auth, "room"))
	if room == "" {
		room = c.opts.DefaultRoom
	}
	quiet, _ := auth["reconnect"].(bool)
	// Every event is limited per socket and per client address: a script
	// opening many sockets shares one address's budget.
	u := &user{addr: clientAddress(s.Handshake().Address, s.Handshake().Headers, c.opts.TrustedProxies)}

	// Handlers first: events the client buffered while offline come right
	// after the CONNECT, and must find them.
	s.On("join", func(name string, ack sockio.Ack) { c.join(s, u, name, ack) })
	s.On("message", func(in textIn, ack sockio.Ack) { c.message(s, u, in, ack) })
	s.On("private", func(in textIn, ack sockio.Ack) { c.private(s, u, in, ack) })
	s.On("rename", func(name string, ack sockio.Ack) { c.rename(s, u, name, ack) })
	s.On("rooms", func(ack sockio.Ack) {
		if !c.limits.allow(u.addr, &u.lim, actRooms, time.Now()) {
			ack(reply(slowRooms))
			return
		}
		ctx, cancel := c.context()
		defer cancel()
		ack(c.recentSnapshot(ctx).roomList())
	})
	s.On("typing", func(on bool) { c.typing(s, u, on) })
	s.On("disconnect", func(reason string) { c.left(s, u, reason) })

	if s.Recovered() && c.recovered(s) {
		return
	}
	c.arriving.Add(1)
	defer c.arriving.Add(-1)
	ctx, cancel := c.context()
	defer cancel()
	name := c.claim(ctx, s, want, clientID, room)
	s.Join(roomKey(room))
	r := c.recentSnapshot(ctx)
	users := r.usersIn(room)
	if !r.contains(memberOf(s.Data())) { // a snapshot shared in a storm
		users = withUser(users, name)
	}
	_ = s.Emit("welcome", c.welcome(ctx, users, r.roomList(), name, room))
	// A reconnection is not news. A new connection is, within the
	// address's budget: past it, a script's connections come in silently.
	if !quiet && c.limits.allow(u.addr, nil, actAnnounce, time.Now()) {
		u.announced = true
		_ = s.To(roomKey(room)).Emit("system", System{Room: room, Text: name + " joined", Time: now()})
	}
	c.lists.changed(true, room)
}

// recovered takes back a socket that connection-state recovery restored,
// on this node or another: its name and room are in its data, it is back
// in its rooms, and the messages it missed were replayed to it, once each,
// in order. So no welcome (its history would repeat them) and no "joined"
// line: the page never left. Only the online lists change, since its
// departure took it out of them. A socket restored without a chat
// identity (data lost) goes through the normal path instead.
func (c *Chat) recovered(s *sockio.Socket) bool {
	m := memberOf(s.Data())
	if m == nil {
		return false
	}
	// From another node the data arrives decoded (a map): keep the
	// *member, so later handlers read it without decoding again.
	s.SetData(m)
	c.lists.changed(true, m.Room)
	return true
}

// user is what the chat keeps about one socket on its node, for its
// handlers, which run one at a time.
type user struct {
	addr      string // the key of its address's rate limits
	lim       limiter
	announced bool // its arrival was told, so its departure will be
}

// typing passes on a typing indicator: a start at most once a second
// (and within the address's budget), a stop only after a start.
func (c *Chat) typing(s *sockio.Socket, u *user, on bool) {
	m := memberOf(s.Data())
	if m == nil {
		return
	}
	if on {
		if !c.limits.allow(u.addr, &u.lim, actTyping, time.Now()) {
			return
		}
	} else if !u.lim.typingOn {
		return
	}
	u.lim.typingOn = on
	_ = s.To(roomKey(m.Room)).Volatile().Emit("typing", map[string]any{"room": m.Room, "name": m.Name, "typing": on})
}

// claim gives s a free name as close to want as possible and records its
// identity. A socket with the same clientId is the same page from before a
// network blip, whose server side has not noticed yet: it is disconnected
// and its name taken over.
//
// Names and pages are rooms (nameRooms, clientRoom), so a claim asks the
// cluster about the few sockets with the same name or page, not about all
// of them: a storm of connections costs each the same, however many are
// in the chat.
func (c *Chat) claim(ctx context.Context, s *sockio.Socket, want, clientID, room string) string {
	c.claimMu.Lock()
	defer c.claimMu.Unlock()
	replaced := map[string]bool{}
	if clientID != "" {
		old, err := c.nsp.In(clientRoom(clientID)).FetchSockets(ctx)
		if err != nil {
			c.opts.Logger.Warn("chat: fetch sockets", "err", err)
		}
		for _, rs := range old {
			if rs.ID != s.ID() {
				replaced[rs.ID] = true
				rs.Close()
			}
		}
	}
	name := uniqueName(want, takenFunc(func(name string) bool {
		others, err := c.nsp.In(nameRooms(name)...).FetchSockets(ctx)
		if err != nil {
			c.opts.Logger.Warn("chat: fetch sockets", "err", err)
		}
		for _, rs := range others {
			if rs.ID != s.ID() && !replaced[rs.ID] {
				return true
			}
		}
		return false
	}))
	if old := memberOf(s.Data()); old != nil {
		s.Leave(nameRooms(old.Name)...)
	}
	s.Join(nameRooms(name)...)
	if clientID != "" {
		s.Join(clientRoom(clientID))
	}
	s.SetData(&member{Name: name, ClientID: clientID, Room: room})
	return name
}

// recentSnapshot is snapshot, shared during a storm of connections: when
// more than stormArrivals arrivals are being handled at once, the welcome
// of each (and each room list asked for) reuses a look at the cluster at
// most snapshotReuse old instead of taking one each, which would cost the
// square of the crowd. Calm, it always looks afresh. The online lists
// sent on changes always look afresh.
func (c *Chat) recentSnapshot(ctx context.Context) *roster {
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	now := time.Now()
	if c.snap != nil && now.Sub(c.snapAt) < snapshotReuse && c.arriving.Load() > stormArrivals {
		return c.snap
	}
	c.snap, c.snapAt = &roster{members: c.snapshot(ctx), def: c.opts.DefaultRoom}, now
	return c.snap
}

const (
	// snapshotReuse is how old a snapshot a welcome may show during a
	// storm: the online lists sent right after correct it.
	snapshotReuse = 250 * time.Millisecond
	// stormArrivals arrivals handled at once make a storm.
	stormArrivals = 8
)

// snapshot returns the chat identities of every connected socket.
func (c *Chat) snapshot(ctx context.Context) []*member {
	all, err := c.nsp.FetchSockets(ctx)
	if err != nil {
		c.opts.Logger.Warn("chat: fetch sockets", "err", err)
	}
	out := make([]*member, 0, len(all))
	for _, rs := range all {
		if m := memberOf(rs.Data); m != nil {
			out = append(out, m)
		}
	}
	return out
}

func usersIn(snap []*member, room string) []User {
	type keyed struct {
		key  string // lower case, once per name rather than per comparison
		name string
	}
	var list []keyed
	for _, m := range snap {
		if m.Room == room {
			list = append(list, keyed{strings.ToLower(m.Name), m.Name})
		}
	}
	slices.SortFunc(list, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	users := make([]User, len(list))
	for i, k := range list {
		users[i] = User{Name: k.name}
	}
	return users
}

// withUser returns users (sorted as usersIn sorts) with name in it.
func withUser(users []User, name string) []User {
	key := strings.ToLower(name)
	i, _ := slices.BinarySearchFunc(users, key, func(u User, k string) int { return strings.Compare(strings.ToLower(u.Name), k) })
	return slices.Insert(slices.Clip(users), i, User{Name: name})
}

// roster is one look at the chat's members, with the lists made from it
// made once however many welcomes show them.
type roster struct {
	members []*member
	def     string

	mu    sync.Mutex
	has   map[*member]bool
	users map[string][]User
	rooms []RoomInfo
}

func (r *roster) contains(m *member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.has == nil {
		r.has = make(map[*member]bool, len(r.members))
		for _, x := range r.members {
			r.has[x] = true
		}
	}
	return r.has[m]
}

func (r *roster) usersIn(room string) []User {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.users[room]
	if !ok {
		if r.users == nil {
			r.users = map[string][]User{}
		}
		u = usersIn(r.members, room)
		r.users[room] = u
	}
	return u
}

func (r *roster) roomList() []RoomInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rooms == nil {
		r.rooms = roomList(r.members, r.def)
	}
	return r.rooms
}

// roomList lists the rooms someone is in, the default room first, then
// the busiest, MaxListedRooms at most.
func roomList(snap []*member, def string) []RoomInfo {
	counts := map[string]int{def: 0}
	for _, m := range snap {
		counts[m.Room]++
	}
	rooms := make([]RoomInfo, 0, len(counts))
	for name, n := range counts {
		rooms = append(rooms, RoomInfo{Name: name, Count: n})
	}
	slices.SortFunc(rooms, func(a, b RoomInfo) int {
		switch {
		case a.Name == def:
			return -1
		case b.Name == def:
			return 1
		case a.Count != b.Count:
			return b.Count - a.Count
		}
		return strings.Compare(a.Name, b.Name)
	})
	return rooms[:min(len(rooms), MaxListedRooms)]
}

// sendLists sends rooms their online lists, and everyone the room list
// if withRooms; it is the flush of c.lists.
func (c *Chat) sendLists(rooms []string, withRooms bool) {
	ctx, cancel := c.context()
	defer cancel()
	snap := c.snapshot(ctx)
	for _, room := range rooms {
		users := usersIn(snap, room)
		_ = c.nsp.To(roomKey(room)).Emit("users", map[string]any{"room": room, "users": users[:min(len(users), MaxListedUsers)], "count": len(users)})
	}
	if withRooms {
		_ = c.nsp.Emit("rooms", roomList(snap, c.opts.DefaultRoom))
	}
}

func (c *Chat) welcome(ctx context.Context, users []User, rooms []RoomInfo, name, room string) Welcome {
	hist, err := c.history.recent(ctx, room, c.opts.HistorySize)
	if err != nil {
		c.opts.Logger.Warn("chat: read history", "room", room, "err", err)
	}
	return Welcome{
		Name:      name,
		Room:      room,
		History:   hist,
		Users:     users[:min(len(users), MaxListedUsers)],
		UserCount: len(users),
		Rooms:     rooms,
		MaxLength: c.opts.MaxMessageLength,
	}
}

func (c *Chat) join(s *sockio.Socket, u *user, want string, ack sockio.Ack) {
	m := memberOf(s.Data())
	if m == nil {
		return
	}
	room := cleanRoom(want)
	if room == "" {
		ack(reply("a room name needs letters or digits"))
		return
	}
	if !c.limits.allow(u.addr, &u.lim, actJoin, time.Now()) {
		ack(reply(slowJoins))
		return
	}
	ctx, cancel := c.context()
	defer cancel()
	if room != m.Room {
		s.Leave(roomKey(m.Room))
		s.SetData(&member{Name: m.Name, ClientID: m.ClientID, Room: room})
		s.Join(roomKey(room))
		u.lim.typingOn = false // a stop would go to the new room
		_ = c.nsp.To(roomKey(m.Room)).Emit("system", System{Room: m.Room, Text: m.Name + " left", Time: now()})
		_ = s.To(roomKey(room)).Emit("system", System{Room: room, Text: m.Name + " joined", Time: now()})
	}
	snap := c.snapshot(ctx)
	ack(c.welcome(ctx, usersIn(snap, room), roomList(snap, c.opts.DefaultRoom), m.Name, room))
	if room != m.Room {
		c.lists.changed(true, m.Room, room)
	}
}

// checkText trims a message and applies the length limit; it returns the
// text to send, or why not.
func checkText(text string, limit int) (string, string) {
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	if text == "" {
		return "", "the message is empty"
	}
	if n := utf8.RuneCountInString(text); n > limit {
		return "", fmt.Sprintf("message too long: %d characters, the limit is %d", n, limit)
	}
	return text, ""
}

func (c *Chat) message(s *sockio.Socket, u *user, in textIn, ack sockio.Ack) {
	m := memberOf(s.Data())
	if m == nil {
		return
	}
	text, problem := checkText(in.Text, c.opts.MaxMessageLength)
	if problem == "" && !c.limits.allow(u.addr, &u.lim, actMessage, time.Now()) {
		problem = slowMessages
	}
	if problem != "" {
		ack(reply(problem))
		return
	}
	msg := Message{ID: newID(), Room: m.Room, From: m.Name, Text: text, Time: now()}
	// Delivered first, written behind: a slow History (Redis away) delays
	// the replay, never the message.
	c.orderMu.Lock()
	_ = s.To(roomKey(m.Room)).Emit("message", msg)
	c.history.add(msg)
	c.orderMu.Unlock()
	ack(map[string]any{"ok": true, "message": msg})
}

func (c *Chat) private(s *sockio.Socket, u *user, in textIn, ack sockio.Ack) {
	m := memberOf(s.Data())
	if m == nil {
		return
	}
	text, problem := checkText(in.Text, c.opts.MaxMessageLength)
	to := cleanName(in.To)
	switch {
	case problem != "":
	case sameName(to, m.Name):
		problem = "that is you"
	case !c.limits.allow(u.addr, &u.lim, actMessage, time.Now()):
		problem = slowMessages
	}
	if problem != "" {
		ack(reply(problem))
		return
	}
	ctx, cancel := c.context()
	defer cancel()
	all, err := c.nsp.FetchSockets(ctx)
	if err != nil {
		c.opts.Logger.Warn("chat: fetch sockets", "err", err)
	}
	var ids []string
	for _, rs := range all {
		if t := memberOf(rs.Data); t != nil && rs.ID != s.ID() && sameName(t.Name, to) {
			ids, to = append(ids, rs.ID), t.Name
		}
	}
	if len(ids) == 0 {
		ack(reply(to + " is not online"))
		return
	}
	p := Private{ID: newID(), From: m.Name, To: to, Text: text, Time: now()}
	_ = c.nsp.To(ids...).Emit("private", p)
	ack(map[string]any{"ok": true, "message": p})
}

func (c *Chat) rename(s *sockio.Socket, u *user, want string, ack sockio.Ack) {
	m := memberOf(s.Data())
	if m == nil {
		return
	}
	want = cleanName(want)
	if want == "" {
		ack(reply("a name needs at least one visible character"))
		return
	}
	if want == m.Name {
		ack(map[string]any{"ok": true, "name": want})
		return
	}
	if !c.limits.allow(u.addr, &u.lim, actJoin, time.Now()) {
		ack(reply(slowRenames))
		return
	}
	ctx, cancel := c.context()
	defer cancel()
	name := c.claim(ctx, s, want, m.ClientID, m.Room)
	_ = c.nsp.To(roomKey(m.Room)).Emit("system", System{Room: m.Room, Text: m.Name + " is now " + name, Time: now()})
	c.lists.changed(false, m.Room)
	ack(map[string]any{"ok": true, "name": name})
}

// left announces a socket's departure, unless the same page already came
// back on a new connection (then it was replaced, not gone) or the server
// is shutting down (everyone goes; the clients reconnect). A departure is
// told if the arrival was; a reconnected page's, within its address's
// budget.
func (c *Chat) left(s *sockio.Socket, u *user, reason string) {
	m := memberOf(s.Data())
	if m == nil || reason == sockio.ReasonServerShuttingDown {
		return
	}
	if c.opts.DepartureGrace > 0 && lostConnection[reason] {
		sid := s.ID()
		c.lists.changed(true, m.Room)
		time.AfterFunc(c.opts.DepartureGrace, func() { c.announceLeft(sid, m, u) })
		return
	}
	c.announceLeft("", m, u)
	c.lists.changed(true, m.Room)
}

// lostConnection are the reasons of a departure the page did not choose:
// the ones after which it may come back, recovered or not.
var lostConnection = map[string]bool{
	engineio.ReasonTransportClose: true,
	engineio.ReasonTransportError: true,
	engineio.ReasonPingTimeout:    true,
}

// announceLeft tells m's room that it left, unless it is back: a socket
// with the same id (sid, when recovery may bring it back) or the same page
// (clientId) is connected on some node.
func (c *Chat) announceLeft(sid string, m *member, u *user) {
	ctx, cancel := c.context()
	defer cancel()
	all, err := c.nsp.FetchSockets(ctx)
	if err != nil {
		c.opts.Logger.Warn("chat: fetch sockets", "err", err)
	}
	for _, rs := range all {
		if sid != "" && rs.ID == sid {
			return
		}
		if o := memberOf(rs.Data); o != nil && m.ClientID != "" && o.ClientID == m.ClientID {
			return
		}
	}
	if u.announced || c.limits.allow(u.addr, nil, actAnnounce, time.Now()) {
		_ = c.nsp.To(roomKey(m.Room)).Emit("system", System{Room: m.Room, Text: m.Name + " left", Time: now()})
	}
}

func authString(auth map[string]any, key string) string {
	s, _ := auth[key].(string)
	return s
}

func newID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func randomDigits(n int) string {
	v, err := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
	if err != nil {
		return strings.Repeat("0", n)
	}
	return fmt.Sprintf("%0*d", n, v.Int64())
}
