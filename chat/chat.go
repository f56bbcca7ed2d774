package chat

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sockio/sockio"
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
}

// New serves the chat on nsp.
func New(nsp *sockio.Namespace, opts Options) *Chat {
	if opts.HistorySize <= 0 {
		opts.HistorySize = 100
	}
	if opts.History == nil {
		opts.History = NewMemoryHistory(opts.HistorySize, 0)
	}
	if opts.MaxMessageLength <= 0 {
		opts.MaxMessageLength = 1000
	}
	if opts.DefaultRoom == "" {
		opts.DefaultRoom = "lobby"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Chat{nsp: nsp, opts: opts}
	nsp.OnConnection(c.onConnection)
	return c
}

// Welcome is what a client gets on connecting and as the answer to join.
type Welcome struct {
	Name      string     `json:"name"`
	Room      string     `json:"room"`
	History   []Message  `json:"history"`
	Users     []User     `json:"users"`
	Rooms     []RoomInfo `json:"rooms"`
	MaxLength int        `json:"maxLength"`
}

type textIn struct {
	Text string `json:"text"`
	To   string `json:"to"`
}

func reply(err string) map[string]any { return map[string]any{"error": err} }

func (c *Chat) context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

func now() int64 { return time.Now().UnixMilli() }

func (c *Chat) onConnection(s *sockio.Socket) {
	auth := s.Handshake().Auth
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

	// Handlers first: events the client buffered while offline come right
	// after the CONNECT, and must find them.
	msgs := newLimiter(10, 500*time.Millisecond)
	var lastTyping time.Time
	s.On("join", func(name string, ack sockio.Ack) { c.join(s, name, ack) })
	s.On("message", func(in textIn, ack sockio.Ack) { c.message(s, in, msgs, ack) })
	s.On("private", func(in textIn, ack sockio.Ack) { c.private(s, in, msgs, ack) })
	s.On("rename", func(name string, ack sockio.Ack) { c.rename(s, name, ack) })
	s.On("rooms", func(ack sockio.Ack) {
		ctx, cancel := c.context()
		defer cancel()
		ack(roomList(c.snapshot(ctx), c.opts.DefaultRoom))
	})
	s.On("typing", func(on bool) {
		m := memberOf(s.Data())
		if m == nil {
			return
		}
		// The client throttles too; this bounds what a rogue one costs.
		if t := time.Now(); on && t.Sub(lastTyping) < time.Second {
			return
		} else if on {
			lastTyping = t
		} else {
			lastTyping = time.Time{} // a stop lets the next start through
		}
		_ = s.To(roomKey(m.Room)).Volatile().Emit("typing", map[string]any{"room": m.Room, "name": m.Name, "typing": on})
	})
	s.On("disconnect", func(reason string) { c.left(s, reason) })

	ctx, cancel := c.context()
	defer cancel()
	name := c.claim(ctx, s, want, clientID, room)
	s.Join(roomKey(room))
	snap := c.snapshot(ctx)
	_ = s.Emit("welcome", c.welcome(ctx, snap, name, room))
	if !quiet {
		_ = s.To(roomKey(room)).Emit("system", System{Room: room, Text: name + " joined", Time: now()})
	}
	c.publish(snap, room)
}

// claim gives s a free name as close to want as possible and records its
// identity. A socket with the same clientId is the same page from before a
// network blip, whose server side has not noticed yet: it is disconnected
// and its name taken over.
func (c *Chat) claim(ctx context.Context, s *sockio.Socket, want, clientID, room string) string {
	c.claimMu.Lock()
	defer c.claimMu.Unlock()
	all, err := c.nsp.FetchSockets(ctx)
	if err != nil {
		c.opts.Logger.Warn("chat: fetch sockets", "err", err)
	}
	taken := map[string]bool{}
	for _, rs := range all {
		m := memberOf(rs.Data)
		if m == nil || rs.ID == s.ID() {
			continue
		}
		if clientID != "" && m.ClientID == clientID {
			rs.Disconnect(true)
			continue
		}
		taken[strings.ToLower(m.Name)] = true
	}
	name := uniqueName(want, taken)
	s.SetData(&member{Name: name, ClientID: clientID, Room: room})
	return name
}

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
	users := []User{}
	for _, m := range snap {
		if m.Room == room {
			users = append(users, User{Name: m.Name})
		}
	}
	slices.SortFunc(users, func(a, b User) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return users
}

// roomList lists the rooms someone is in, the default room first, then
// the busiest.
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
	return rooms
}

// publish sends a room's online list to the room and the room list to
// everyone.
func (c *Chat) publish(snap []*member, rooms ...string) {
	for _, room := range rooms {
		users := usersIn(snap, room)
		_ = c.nsp.To(roomKey(room)).Emit("users", map[string]any{"room": room, "users": users, "count": len(users)})
	}
	_ = c.nsp.Emit("rooms", roomList(snap, c.opts.DefaultRoom))
}

func (c *Chat) welcome(ctx context.Context, snap []*member, name, room string) Welcome {
	hist, err := c.opts.History.Recent(ctx, room, c.opts.HistorySize)
	if err != nil {
		c.opts.Logger.Warn("chat: read history", "room", room, "err", err)
		hist = []Message{}
	}
	return Welcome{
		Name:      name,
		Room:      room,
		History:   hist,
		Users:     usersIn(snap, room),
		Rooms:     roomList(snap, c.opts.DefaultRoom),
		MaxLength: c.opts.MaxMessageLength,
	}
}

func (c *Chat) join(s *sockio.Socket, want string, ack sockio.Ack) {
	m := memberOf(s.Data())
	if m == nil {
		return
	}
	room := cleanRoom(want)
	if room == "" {
		ack(reply("a room name needs letters or digits"))
		return
	}
	ctx, cancel := c.context()
	defer cancel()
	if room != m.Room {
		s.Leave(roomKey(m.Room))
		s.SetData(&member{Name: m.Name, ClientID: m.ClientID, Room: room})
		s.Join(roomKey(room))
		_ = c.nsp.To(roomKey(m.Room)).Emit("system", System{Room: m.Room, Text: m.Name + " left", Time: now()})
		_ = s.To(roomKey(room)).Emit("system", System{Room: room, Text: m.Name + " joined", Time: now()})
	}
	snap := c.snapshot(ctx)
	ack(c.welcome(ctx, snap, m.Name, room))
	if room != m.Room {
		c.publish(snap, m.Room, room)
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

func (c *Chat) message(s *sockio.Socket, in textIn, lim *limiter, ack sockio.Ack) {
	m := memberOf(s.Data())
	if m == nil {
		return
	}
	text, problem := checkText(in.Text, c.opts.MaxMessageLength)
	if problem == "" && !lim.allow(time.Now()) {
		problem = "slow down: too many messages"
	}
	if problem != "" {
		ack(reply(problem))
		return
	}
	msg := Message{ID: newID(), Room: m.Room, From: m.Name, Text: text, Time: now()}
	ctx, cancel := c.context()
	defer cancel()
	// A history failure loses the replay, not the message: deliver anyway.
	if err := c.opts.History.Append(ctx, msg); err != nil {
		c.opts.Logger.Warn("chat: append history", "room", m.Room, "err", err)
	}
	_ = s.To(roomKey(m.Room)).Emit("message", msg)
	ack(map[string]any{"ok": true, "message": msg})
}

func (c *Chat) private(s *sockio.Socket, in textIn, lim *limiter, ack sockio.Ack) {
	m := memberOf(s.Data())
	if m == nil {
		return
	}
	text, problem := checkText(in.Text, c.opts.MaxMessageLength)
	to := cleanName(in.To)
	switch {
	case problem != "":
	case strings.EqualFold(to, m.Name):
		problem = "that is you"
	case !lim.allow(time.Now()):
		problem = "slow down: too many messages"
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
		if t := memberOf(rs.Data); t != nil && rs.ID != s.ID() && strings.EqualFold(t.Name, to) {
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

func (c *Chat) rename(s *sockio.Socket, want string, ack sockio.Ack) {
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
	ctx, cancel := c.context()
	defer cancel()
	name := c.claim(ctx, s, want, m.ClientID, m.Room)
	_ = c.nsp.To(roomKey(m.Room)).Emit("system", System{Room: m.Room, Text: m.Name + " is now " + name, Time: now()})
	c.publish(c.snapshot(ctx), m.Room)
	ack(map[string]any{"ok": true, "name": name})
}

// left announces a socket's departure, unless the same page already came
// back on a new connection (then it was replaced, not gone) or the server
// is shutting down (everyone goes; the clients reconnect).
func (c *Chat) left(s *sockio.Socket, reason string) {
	m := memberOf(s.Data())
	if m == nil || reason == sockio.ReasonServerShuttingDown {
		return
	}
	ctx, cancel := c.context()
	defer cancel()
	snap := c.snapshot(ctx)
	replaced := false
	for _, o := range snap {
		if m.ClientID != "" && o.ClientID == m.ClientID {
			replaced = true
		}
	}
	if !replaced {
		_ = c.nsp.To(roomKey(m.Room)).Emit("system", System{Room: m.Room, Text: m.Name + " left", Time: now()})
	}
	c.publish(snap, m.Room)
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
