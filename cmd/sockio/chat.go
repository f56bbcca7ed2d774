package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/client"
)

// The terminal client of the chat room that `sockio serve` runs (package
// chat, docs/chat.md): same events and payloads as the browser page.

func init() {
	register("chat", "a terminal client of the chat room: sockio chat --url http://host:3000 --name alice [--room lobby]", runChat)
}

// chatConfig is what the terminal chat needs besides its input and output.
type chatConfig struct {
	URL  string // server URL; a path selects the namespace
	Name string // the name asked for (the server may add a suffix)
	Room string // the room to start in
	// Options for the client; the chat sets AuthFunc.
	Options client.Options
}

func runChat(args []string) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	rawURL := fs.String("url", "http://localhost:3000", "server URL; a path selects the namespace")
	name := fs.String("name", os.Getenv("USER"), "your name in the room")
	room := fs.String("room", "lobby", "the room to join")
	transport := fs.String("transport", "", `force one transport: "polling" or "websocket"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := chatConfig{URL: *rawURL, Name: *name, Room: *room}
	if *transport != "" {
		cfg.Options.Transports = []string{*transport}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The goroutine reading stdin cannot be interrupted; it ends with the
	// process.
	return chatClient(ctx, cfg, os.Stdin, os.Stdout)
}

// Payloads of the chat protocol that package chat does not export.
type (
	usersEvent struct {
		Room  string      `json:"room"`
		Users []chat.User `json:"users"`
	}
	// The answers carry {error} on a refusal.
	messageReply struct {
		OK      bool         `json:"ok"`
		Message chat.Message `json:"message"`
		Error   string       `json:"error"`
	}
	privateReply struct {
		OK      bool         `json:"ok"`
		Message chat.Private `json:"message"`
		Error   string       `json:"error"`
	}
	joinReply struct {
		chat.Welcome
		Error string `json:"error"`
	}
	renameReply struct {
		OK    bool   `json:"ok"`
		Name  string `json:"name"`
		Error string `json:"error"`
	}
)

// answerTimeout bounds waiting for the answer to join, rename and rooms
// (the page's value). Messages have none: typed offline, they wait in the
// client's buffer and are acknowledged once the connection is back.
const answerTimeout = 10 * time.Second

// seenMax bounds the message ids remembered to merge a room's history
// after a reconnection; the server replays at most 100.
const seenMax = 512

// chatTerm is the terminal chat's state. Handlers and acknowledgements run
// on the socket's goroutine, AuthFunc on the manager's, commands on the
// caller's: mu guards the state, outMu the output.
type chatTerm struct {
	s        *client.Socket
	url      string
	clientID string

	mu        sync.Mutex
	wanted    string // the name presented on (re)connection
	name      string // the name the server gave
	room      string // the room shown; "" before the first welcome
	users     []string
	maxLength int
	connected bool // a first connection happened (then reconnect: true)
	seen      map[string]bool
	seenOrder []string

	outMu sync.Mutex
	out   io.Writer
}

// chatClient runs the terminal chat until ctx ends, in reaches its end or
// the user types /quit. Lines read from in are messages or commands;
// everything to show goes to out, one line per Write.
func chatClient(ctx context.Context, cfg chatConfig, in io.Reader, out io.Writer) error {
	name := strings.TrimSpace(cfg.Name)
	if name == "" {
		name = "anonymous"
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	t := &chatTerm{
		url:       cfg.URL,
		clientID:  hex.EncodeToString(id[:]),
		wanted:    name,
		maxLength: 1000,
		seen:      map[string]bool{},
		out:       out,
	}
	start := strings.TrimSpace(cfg.Room)
	opts := cfg.Options
	opts.Auth = nil
	opts.AuthFunc = func(context.Context) (any, error) { return t.auth(start), nil }
	s, err := client.New(cfg.URL, opts)
	if err != nil {
		return err
	}
	t.s = s
	defer s.Close()
	t.listen()

	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.Connect(cctx); err != nil {
		return fmt.Errorf("failed to join the chat: %w", err)
	}

	lines, readErr := readLines(in)
	defer close(lines.stop)
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines.c:
			if !ok {
				return *readErr
			}
			if quit, err := t.command(line); quit || err != nil {
				return err
			}
		}
	}
}

type lineChan struct {
	c    chan string
	stop chan struct{}
}

// readLines reads in on a goroutine of its own, so that the main loop
// also sees ctx; closing stop lets that goroutine go once its current read
// returns. The error is valid once c is closed.
func readLines(in io.Reader) (lineChan, *error) {
	lc := lineChan{c: make(chan string), stop: make(chan struct{})}
	var err error
	go func() {
		defer close(lc.c)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 4096), 1<<20)
		for sc.Scan() {
			select {
			case lc.c <- sc.Text():
			case <-lc.stop:
				return
			}
		}
		if sc.Err() != nil {
			err = fmt.Errorf("failed to read the input: %w", sc.Err())
		}
	}()
	return lc, &err
}

// auth is the CONNECT payload, read on every (re)connection as the page's:
// the server puts us back in our room under our name, and with reconnect
// set it announces no "joined" line.
func (t *chatTerm) auth(start string) map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	room := t.room
	if room == "" {
		room = start
	}
	return map[string]any{"name": t.wanted, "clientId": t.clientID, "room": room, "reconnect": t.connected}
}

func (t *chatTerm) listen() {
	s := t.s
	s.On("connect", func() {
		t.mu.Lock()
		again := t.connected
		t.mu.Unlock()
		switch {
		case again && s.Recovered():
			// The server kept our socket, name and room, and replays what
			// we missed as events; no welcome follows.
			t.say("* reconnected (recovered: what was missed follows)")
		case again:
			t.say("* reconnected")
		default:
			t.say("* connected to %s (/help lists the commands)", t.url)
		}
	})
	s.On("disconnect", func(reason string) {
		switch {
		case reason == client.ReasonIOClientDisconnect: // we are leaving
		case s.Active():
			t.say("* disconnected (%s), reconnecting...", reason)
		default:
			t.say("* disconnected (%s)", reason)
		}
	})
	s.On("connect_error", func(err error) { t.say("* cannot connect: %v", err) })
	s.Manager().On("reconnect_attempt", func(n int) { t.say("* reconnecting (attempt %d)", n) })

	s.On("welcome", func(w chat.Welcome) { t.welcome(w) })
	s.On("message", func(m chat.Message) {
		if t.inRoom(m.Room) && t.markSeen(m.ID) {
			t.say("%s", formatMessage(m))
		}
	})
	s.On("private", func(p chat.Private) { t.say("%s", formatPrivate(p)) })
	s.On("system", func(m chat.System) {
		if t.inRoom(m.Room) {
			t.say("%s * %s", clock(m.Time), printable(m.Text))
		}
	})
	s.On("users", func(u usersEvent) {
		if t.inRoom(u.Room) {
			t.mu.Lock()
			t.users = userNames(u.Users)
			t.mu.Unlock()
		}
	})
	// "typing" is not shown: a line-based terminal has no place for a
	// passing indicator, and it cannot tell that its user is typing
	// before Enter, so it sends none either. "rooms" is asked for (/rooms)
	// rather than followed.
}

// welcome shows a room: the first join or a room change starts afresh
// (history, online list); a welcome after a reconnection shows only the
// messages sent while we were away.
func (t *chatTerm) welcome(w chat.Welcome) {
	t.mu.Lock()
	fresh := w.Room != t.room
	renamed := t.name != "" && w.Name != t.name
	t.connected = true
	t.room = w.Room
	t.name = w.Name
	// Keep the name given: asking again for a name the server suffixed
	// could rename us on a reconnection.
	t.wanted = w.Name
	t.users = userNames(w.Users)
	if w.MaxLength > 0 {
		t.maxLength = w.MaxLength
	}
	if fresh {
		clear(t.seen)
		t.seenOrder = t.seenOrder[:0]
	}
	var missed []chat.Message
	for _, m := range w.History {
		if t.markSeenLocked(m.ID) {
			missed = append(missed, m)
		}
	}
	users := t.users
	t.mu.Unlock()

	var b strings.Builder
	switch {
	case fresh:
		// The name may differ from the one asked for (a suffix when taken).
		fmt.Fprintf(&b, "* #%s, you are %s", printable(w.Room), printable(w.Name))
		if len(missed) == 0 {
			b.WriteString("\n* no messages yet")
		} else {
			fmt.Fprintf(&b, "\n* the last %d messages:", len(missed))
		}
	case renamed:
		fmt.Fprintf(&b, "* you are now %s", printable(w.Name))
	}
	if !fresh && len(missed) > 0 {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("* while you were away:")
	}
	for _, m := range missed {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(formatMessage(m))
	}
	if fresh {
		b.WriteString("\n" + formatUsers(w.Room, users))
	}
	if b.Len() > 0 {
		t.say("%s", b.String())
	}
}

// command handles one input line: a message, or a command starting with /.
func (t *chatTerm) command(line string) (quit bool, err error) {
	text := strings.TrimSpace(line)
	if text == "" {
		return false, nil
	}
	if !strings.HasPrefix(text, "/") || strings.HasPrefix(text, "//") {
		return false, t.send(strings.TrimPrefix(text, "/"))
	}
	cmd, rest, _ := strings.Cut(text, " ")
	rest = strings.TrimSpace(rest)
	switch cmd {
	case "/quit", "/exit":
		return true, nil
	case "/help":
		t.say("* commands: /join room, /nick name, /msg user text (\"quotes\" around a name with spaces), /who, /rooms, /quit; //text sends a line starting with /")
	case "/who":
		t.mu.Lock()
		room, users := t.room, t.users
		t.mu.Unlock()
		t.say("%s", formatUsers(room, users))
	case "/join":
		if rest == "" {
			t.say("* usage: /join room")
			return false, nil
		}
		return false, t.join(rest)
	case "/nick":
		if rest == "" {
			t.say("* usage: /nick name")
			return false, nil
		}
		return false, t.rename(rest)
	case "/msg":
		to, msg := t.splitTarget(rest)
		if to == "" || msg == "" {
			t.say("* usage: /msg user text")
			return false, nil
		}
		return false, t.private(to, msg)
	case "/rooms":
		return false, t.rooms()
	default:
		t.say("* unknown command %s (/help lists them)", cmd)
	}
	return false, nil
}

// send emits a message to the room; the server's answer shows it, with
// its time, as delivered.
func (t *chatTerm) send(text string) error {
	if !t.fits(text) {
		return nil
	}
	return t.emit("message", map[string]any{"text": text}, func(err error, r messageReply) {
		switch {
		case err != nil:
			t.say("* %q may not have been delivered: %v", text, err)
		case !r.OK:
			t.say("* not sent: %s", printable(r.Error))
		default:
			t.markSeen(r.Message.ID)
			t.say("%s", formatMessage(r.Message))
		}
	})
}

func (t *chatTerm) private(to, text string) error {
	if !t.fits(text) {
		return nil
	}
	return t.emit("private", map[string]any{"to": to, "text": text}, func(err error, r privateReply) {
		switch {
		case err != nil:
			t.say("* private message to %s may not have been delivered: %v", printable(to), err)
		case !r.OK:
			t.say("* not sent: %s", printable(r.Error))
		default:
			t.say("%s", formatPrivate(r.Message))
		}
	})
}

func (t *chatTerm) join(room string) error {
	return t.emitTimeout("join", room, func(err error, r joinReply) {
		switch {
		case err != nil:
			t.say("* could not join %s: %v", room, err)
		case r.Error != "":
			t.say("* could not join %s: %s", room, printable(r.Error))
		case t.inRoom(r.Room):
			t.say("* you are in #%s", printable(r.Room))
		default:
			t.welcome(r.Welcome)
		}
	})
}

func (t *chatTerm) rename(name string) error {
	return t.emitTimeout("rename", name, func(err error, r renameReply) {
		switch {
		case err != nil:
			t.say("* could not rename: %v", err)
		case r.Error != "":
			t.say("* could not rename: %s", printable(r.Error))
		default:
			// The room's system line ("x is now y") shows the new name.
			t.mu.Lock()
			t.name, t.wanted = r.Name, r.Name
			t.mu.Unlock()
		}
	})
}

func (t *chatTerm) rooms() error {
	return t.emitTimeout("rooms", nil, func(err error, rooms []chat.RoomInfo) {
		if err != nil {
			t.say("* no room list: %v", err)
			return
		}
		parts := make([]string, len(rooms))
		for i, r := range rooms {
			parts[i] = fmt.Sprintf("#%s (%d)", printable(r.Name), r.Count)
		}
		t.say("* rooms: %s", strings.Join(parts, ", "))
	})
}

// emit sends an event whose answer comes to cb; offline, it waits in the
// client's buffer.
func (t *chatTerm) emit(event string, arg, cb any) error {
	if !t.s.Connected() {
		t.say("* offline: it will go when the connection is back")
	}
	err := t.s.Emit(event, arg, cb)
	if errors.Is(err, client.ErrBufferFull) {
		t.say("* not sent: offline for too long")
		return nil
	}
	return err
}

func (t *chatTerm) emitTimeout(event string, arg, cb any) error {
	args := []any{cb}
	if arg != nil {
		args = []any{arg, cb}
	}
	err := t.s.Timeout(answerTimeout).Emit(event, args...)
	if errors.Is(err, client.ErrBufferFull) {
		t.say("* not sent: offline for too long")
		return nil
	}
	return err
}

// fits applies the server's length limit before sending, as the page does.
func (t *chatTerm) fits(text string) bool {
	t.mu.Lock()
	limit := t.maxLength
	t.mu.Unlock()
	if n := utf8.RuneCountInString(text); n > limit {
		t.say("* message too long: %d characters, the limit is %d", n, limit)
		return false
	}
	return true
}

// splitTarget separates "/msg" arguments into a name and the text. Names
// may hold spaces ("alice 2"): a quoted name, else the longest name online
// in the room that starts the line, else the first word.
func (t *chatTerm) splitTarget(s string) (to, text string) {
	if rest, ok := strings.CutPrefix(s, `"`); ok {
		to, text, _ = strings.Cut(rest, `"`)
		return strings.TrimSpace(to), strings.TrimSpace(text)
	}
	t.mu.Lock()
	users := t.users
	t.mu.Unlock()
	lower := strings.ToLower(s)
	for _, u := range users {
		if len(u) > len(to) && strings.HasPrefix(lower, strings.ToLower(u)+" ") {
			to = u
		}
	}
	if to != "" {
		return to, strings.TrimSpace(s[len(to):])
	}
	to, text, _ = strings.Cut(s, " ")
	return to, strings.TrimSpace(text)
}

func (t *chatTerm) inRoom(room string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return room == t.room
}

// markSeen records a message id and reports whether it is new.
func (t *chatTerm) markSeen(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.markSeenLocked(id)
}

func (t *chatTerm) markSeenLocked(id string) bool {
	if id == "" {
		return true
	}
	if t.seen[id] {
		return false
	}
	if len(t.seenOrder) == seenMax {
		delete(t.seen, t.seenOrder[0])
		t.seenOrder = append(t.seenOrder[:0], t.seenOrder[1:]...)
	}
	t.seen[id] = true
	t.seenOrder = append(t.seenOrder, id)
	return true
}

// say writes one line (or a block of lines) to the output.
func (t *chatTerm) say(format string, args ...any) {
	t.outMu.Lock()
	defer t.outMu.Unlock()
	_, _ = fmt.Fprintf(t.out, format+"\n", args...)
}

func formatMessage(m chat.Message) string {
	return fmt.Sprintf("%s %s: %s", clock(m.Time), printable(m.From), printable(m.Text))
}

func formatPrivate(p chat.Private) string {
	return fmt.Sprintf("%s [private] %s -> %s: %s", clock(p.Time), printable(p.From), printable(p.To), printable(p.Text))
}

func formatUsers(room string, users []string) string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = printable(u)
	}
	return fmt.Sprintf("* online in #%s (%d): %s", printable(room), len(users), strings.Join(names, ", "))
}

func userNames(users []chat.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Name
	}
	return out
}

// clock shows a server time (Unix milliseconds): the time of day, with
// the date when it is not today.
func clock(ms int64) string {
	t := time.UnixMilli(ms)
	if y, m, d := t.Date(); y == time.Now().Year() && m == time.Now().Month() && d == time.Now().Day() {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}

// printable keeps text from the network from driving the terminal: control
// characters (escape sequences, carriage returns) and bidirectional
// overrides become U+FFFD, line breaks and tabs spaces. It is the
// terminal's textContent.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return utf8.RuneError
		}
		return r
	}, s)
}
