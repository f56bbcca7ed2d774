package chat

import (
	"context"
	"encoding/json"
	"net/http"
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

	mu      sync.Mutex
	members map[*ws.Conn]*plainMember
}

type plainMember struct {
	name, room string
	lim        *limiter
	lastTyping time.Time
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
// connects (sockio serve uses /ws). opts are those of New.
func NewPlain(opts Options) *Plain {
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
	p := &Plain{opts: opts, members: make(map[*ws.Conn]*plainMember)}
	p.srv = &ws.Server{
		Handlers: ws.Handlers{OnText: p.onText, OnClose: func(c *ws.Conn, _ int, _ string) { p.leave(c) }},
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
func (p *Plain) Shutdown(ctx context.Context) error { return p.srv.Shutdown(ctx) }

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
	p.mu.Lock()
	old := p.members[c]
	taken := map[string]bool{}
	for other, m := range p.members {
		if other != c {
			taken[strings.ToLower(m.name)] = true
		}
	}
	name := uniqueName(want, taken)
	m := &plainMember{name: name, room: room, lim: newLimiter(10, 500*time.Millisecond)}
	if old != nil {
		m.lim = old.lim
	}
	p.members[c] = m
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hist, err := p.opts.History.Recent(ctx, room, p.opts.HistorySize)
	if err != nil {
		hist = []Message{}
	}
	send(c, map[string]any{"type": "welcome", "name": name, "room": room, "history": hist, "maxLength": p.opts.MaxMessageLength})
	if old != nil && old.room != room {
		p.toRoom(old.room, nil, map[string]any{"type": "system", "text": old.name + " left"})
		p.sendUsers(old.room)
	}
	switch {
	case old == nil || old.room != room:
		p.toRoom(room, c, map[string]any{"type": "system", "text": name + " joined"})
	case old.name != name:
		p.toRoom(room, nil, map[string]any{"type": "system", "text": old.name + " is now " + name})
	}
	p.sendUsers(room)
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
	if problem == "" && !m.lim.allow(time.Now()) {
		problem = "slow down: too many messages"
	}
	if problem != "" {
		send(c, map[string]any{"type": "error", "text": problem, "ref": in.Ref})
		return
	}
	msg := Message{ID: newID(), Room: m.room, From: m.name, Text: text, Time: now()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.opts.History.Append(ctx, msg)
	out := map[string]any{"type": "message", "id": msg.ID, "room": msg.Room, "from": msg.From, "text": msg.Text, "time": msg.Time}
	p.toRoom(m.room, c, out)
	out["ref"] = in.Ref
	send(c, out)
}

func (p *Plain) typing(c *ws.Conn, in plainIn) {
	m := p.member(c)
	if m == nil {
		return
	}
	if t := time.Now(); in.Typing && t.Sub(m.lastTyping) < time.Second {
		return
	} else if in.Typing {
		m.lastTyping = t
	} else {
		m.lastTyping = time.Time{} // a stop lets the next start through
	}
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
	p.toRoom(m.room, nil, map[string]any{"type": "system", "text": m.name + " left"})
	p.sendUsers(m.room)
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
	p.toRoom(room, nil, map[string]any{"type": "users", "room": room, "users": users, "count": len(users)})
}
