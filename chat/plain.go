package chat

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sockio/sockio/ws"
)

// Plain is the same chat over plain WebSocket (package ws), for apps that
// do not use Socket.IO: JSON messages with a "type" field. It keeps its
// own people and history; it is the example to copy, not a bridge.
//
//	client → server  {"type":"join","name":"alice","room":"lobby"}
//	                 {"type":"message","text":"hi","ref":"local-1"}
//	                 {"type":"typing","typing":true}
//	                 {"type":"ping"}                (answered {"type":"pong"})
//	server → client  {"type":"welcome","name":"alice","room":"lobby","history":[…],"maxLength":1000}
//	                 {"type":"message","id":…,"room":…,"from":…,"text":…,"time":…,"ref":"local-1"}
//	                 {"type":"users","room":"lobby","users":[{"name":"alice"}],"count":1}
//	                 {"type":"typing","name":"bob","typing":true}
//	                 {"type":"system","text":"bob joined"}
//	                 {"type":"error","text":"…","ref":"local-1"}
//
// "ref" is the sender's own id for a message; only the sender's copy (or
// error) carries it, so the page can mark the message delivered.
type Plain struct {
	srv  *ws.Server
	opts Options

	limits  *limits
	lists   *lists
	history *historyQueue
	orderMu sync.Mutex // deliver and queue for the history as one step

	mu      sync.Mutex
	members map[*ws.Conn]*plainMember
}

// plainMember is replaced on every join; the *user (rate limits) stays.
type plainMember struct {
	name, room string
	u          *user
}

type plainIn struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Room   string `json:"room"`
	Text   string `json:"text"`
	Ref    string `json:"ref"`
	Typing bool   `json:"typing"`
}

// NewPlain returns the plain-WebSocket chat; mount it where the page
// connects (sockio serve uses /ws). opts are those of New, with the same
// limits per connection and per client address.
func NewPlain(opts Options) *Plain {
	opts = opts.withDefaults()
	p := &Plain{opts: opts, members: make(map[*ws.Conn]*plainMember), limits: newLimits(opts.MaxAddresses)}
	p.lists = newLists(opts.ListInterval, func(rooms []string, _ bool) {
		for _, room := range rooms {
			p.sendUsers(room)
		}
	})
	p.history = newHistoryQueue(opts.History, opts.Logger, opts.HistoryQueue)
	p.srv = &ws.Server{
		Handlers:    ws.Handlers{OnText: p.onText, OnClose: func(c *ws.Conn, _ int, _ string) { p.leave(c) }},
		CheckOrigin: opts.CheckOrigin,
		// A chat message is small; the limit is the text limit, in UTF-8
		// bytes at most 4 each, plus room for the JSON around it.
		ConnOptions: ws.ConnOptions{MaxMessageSize: int64(opts.MaxMessageLength)*4 + 4096},
	}
	return p
}

// ServeHTTP upgrades the request to a WebSocket connection.
func (p *Plain) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.srv.ServeHTTP(w, r) }

// Shutdown closes every connection (close code 1001) and waits for them
// until ctx ends.
func (p *Plain) Shutdown(ctx context.Context) error {
	err := p.srv.Shutdown(ctx)
	if ferr := p.history.flush(ctx); err == nil {
		err = ferr
	}
	return err
}

func send(c *ws.Conn, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		_ = c.SendText(b)
	}
}

func (p *Plain) onText(c *ws.Conn, text []byte) {
	var in plainIn
	if err := json.Unmarshal(text, &in); err != nil {
		send(c, map[string]any{"type": "error", "text": "messages are JSON objects with a type"})
		return
	}
	switch in.Type {
	case "join":
		p.join(c, in)
	case "message":
		p.message(c, in)
	case "typing":
		p.typing(c, in)
	case "ping":
		// The browser cannot send WebSocket pings; the reconnecting
		// helper's heartbeat is this application message.
		_ = c.SendText([]byte(`{"type":"pong"}`))
	default:
		send(c, map[string]any{"type": "error", "text": "unknown type " + strings.ToValidUTF8(in.Type, "")})
	}
}

// join names the connection and puts it in a room; a second join renames
// it or moves it.
func (p *Plain) join(c *ws.Conn, in plainIn) {
	want := cleanName(in.Name)
	if want == "" {
		want = "guest " + randomDigits(4)
	}
	room := cleanRoom(in.Room)
	if room == "" {
		room = p.opts.DefaultRoom
	}
	old := p.member(c)
	var u *user
	if old == nil {
		u = &user{addr: plainAddress(c, p.opts.TrustedProxies)}
	} else {
		// A second join renames or moves: limited as join and rename are.
		u = old.u
		if !p.limits.allow(u.addr, &u.lim, actJoin, time.Now()) {
			send(c, map[string]any{"type": "error", "text": slowJoins})
			return
		}
	}
	p.mu.Lock()
	taken := names{}
	for other, m := range p.members {
		if other != c {
			taken.add(m.name)
		}
	}
	name := uniqueName(want, taken)
	m := &plainMember{name: name, room: room, u: u}
	p.members[c] = m
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hist, err := p.history.recent(ctx, room, p.opts.HistorySize)
	if err != nil {
		p.opts.Logger.Warn("chat: read history", "room", room, "err", err)
	}
	send(c, map[string]any{"type": "welcome", "name": name, "room": room, "history": hist, "maxLength": p.opts.MaxMessageLength})
	if old != nil && old.room != room {
		u.lim.typingOn = false
		p.toRoom(old.room, nil, map[string]any{"type": "system", "text": old.name + " left"})
		p.lists.changed(true, old.room)
	}
	switch {
	case old == nil:
		// Past the address's budget, new connections come in silently.
		if p.limits.allow(u.addr, nil, actAnnounce, time.Now()) {
			u.announced = true
			p.toRoom(room, c, map[string]any{"type": "system", "text": name + " joined"})
		}
	case old.room != room:
		p.toRoom(room, c, map[string]any{"type": "system", "text": name + " joined"})
	case old.name != name:
		p.toRoom(room, nil, map[string]any{"type": "system", "text": old.name + " is now " + name})
	}
	p.lists.changed(true, room)
}

// plainAddress is the key of a connection's per-address limits.
func plainAddress(c *ws.Conn, trusted []netip.Prefix) string {
	peer := ""
	if a := c.RemoteAddr(); a != nil {
		peer = a.String()
		if h, _, err := net.SplitHostPort(peer); err == nil {
			peer = h
		}
	}
	return clientAddress(peer, c.Headers(), trusted)
}

func (p *Plain) member(c *ws.Conn) *plainMember {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.members[c]
}

func (p *Plain) message(c *ws.Conn, in plainIn) {
	m := p.member(c)
	if m == nil {
		send(c, map[string]any{"type": "error", "text": "join first", "ref": in.Ref})
		return
	}
	text, problem := checkText(in.Text, p.opts.MaxMessageLength)
	if problem == "" && !p.limits.allow(m.u.addr, &m.u.lim, actMessage, time.Now()) {
		problem = slowMessages
	}
	if problem != "" {
		send(c, map[string]any{"type": "error", "text": problem, "ref": in.Ref})
		return
	}
	msg := Message{ID: newID(), Room: m.room, From: m.name, Text: text, Time: now()}
	out := map[string]any{"type": "message", "id": msg.ID, "room": msg.Room, "from": msg.From, "text": msg.Text, "time": msg.Time}
	// Delivered first, written behind (see Chat.message).
	p.orderMu.Lock()
	p.toRoom(m.room, c, out)
	p.history.add(msg)
	p.orderMu.Unlock()
	out["ref"] = in.Ref
	send(c, out)
}

func (p *Plain) typing(c *ws.Conn, in plainIn) {
	m := p.member(c)
	if m == nil {
		return
	}
	// As in Chat.typing: a start once a second, a stop only after a start.
	if in.Typing {
		if !p.limits.allow(m.u.addr, &m.u.lim, actTyping, time.Now()) {
			return
		}
	} else if !m.u.lim.typingOn {
		return
	}
	m.u.lim.typingOn = in.Typing
	p.toRoom(m.room, c, map[string]any{"type": "typing", "name": m.name, "typing": in.Typing})
}

func (p *Plain) leave(c *ws.Conn) {
	p.mu.Lock()
	m := p.members[c]
	delete(p.members, c)
	p.mu.Unlock()
	if m == nil {
		return
	}
	if m.u.announced || p.limits.allow(m.u.addr, nil, actAnnounce, time.Now()) {
		p.toRoom(m.room, nil, map[string]any{"type": "system", "text": m.name + " left"})
	}
	p.lists.changed(true, m.room)
}

// toRoom sends v, encoded once, to everyone in room but except.
func (p *Plain) toRoom(room string, except *ws.Conn, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	p.mu.Lock()
	var to []*ws.Conn
	for c, m := range p.members {
		if m.room == room && c != except {
			to = append(to, c)
		}
	}
	p.mu.Unlock()
	for _, c := range to {
		_ = c.SendText(b)
	}
}

func (p *Plain) sendUsers(room string) {
	p.mu.Lock()
	users := []User{}
	for _, m := range p.members {
		if m.room == room {
			users = append(users, User{Name: m.name})
		}
	}
	p.mu.Unlock()
	slices.SortFunc(users, func(a, b User) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	p.toRoom(room, nil, map[string]any{"type": "users", "room": room, "users": users[:min(len(users), MaxListedUsers)], "count": len(users)})
}
