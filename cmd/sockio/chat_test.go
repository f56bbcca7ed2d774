package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/client"
)

const waitFor = 10 * time.Second

// transcript is a terminal: what the chat prints, searchable while it grows.
type transcript struct {
	mu   sync.Mutex
	text strings.Builder
	pos  int           // where the previous expect matched
	grew chan struct{} // signalled on every write
}

func (tr *transcript) Write(p []byte) (int, error) {
	tr.mu.Lock()
	tr.text.Write(p)
	tr.mu.Unlock()
	select {
	case tr.grew <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (tr *transcript) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.text.String()
}

// chatUser is one terminal chat client fed through a pipe.
type chatUser struct {
	t    *testing.T
	name string
	in   *io.PipeWriter
	out  *transcript
	done chan error
}

func startChat(t *testing.T, url, name, room string, transports ...string) *chatUser {
	return startChatWith(t, chatConfig{URL: url, Name: name, Room: room, Options: client.Options{
		Transports:          transports,
		ReconnectionDelay:   50 * time.Millisecond,
		RandomizationFactor: -1,
	}})
}

func startChatWith(t *testing.T, cfg chatConfig) *chatUser {
	pr, pw := io.Pipe()
	u := &chatUser{t: t, name: cfg.Name, in: pw, out: &transcript{grew: make(chan struct{}, 1)}, done: make(chan error, 1)}
	go func() { u.done <- chatClient(context.Background(), cfg, pr, u.out) }()
	t.Cleanup(func() {
		_ = pw.Close()
		select {
		case <-u.done:
		case <-time.After(waitFor):
			t.Errorf("%s: the chat did not end with its input", cfg.Name)
		}
	})
	return u
}

// say types a line.
func (u *chatUser) say(line string) {
	u.t.Helper()
	written := make(chan error, 1)
	go func() { _, err := io.WriteString(u.in, line+"\n"); written <- err }()
	select {
	case err := <-written:
		if err != nil {
			u.t.Fatalf("%s: typing %q: %v", u.name, line, err)
		}
	case <-time.After(waitFor):
		u.t.Fatalf("%s: %q was not read", u.name, line)
	}
}

// expect waits until want is printed after what the previous expect found:
// the lines come in that order.
func (u *chatUser) expect(want string) {
	u.t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		u.out.mu.Lock()
		text := u.out.text.String()
		i := strings.Index(text[u.out.pos:], want)
		if i >= 0 {
			u.out.pos += i + len(want)
		}
		u.out.mu.Unlock()
		if i >= 0 {
			return
		}
		select {
		case <-u.out.grew:
		case <-deadline.C:
			u.t.Fatalf("%s never printed %q; the terminal shows:\n%s", u.name, want, text)
		}
	}
}

func (u *chatUser) lacks(unwanted string) {
	u.t.Helper()
	if text := u.out.String(); strings.Contains(text, unwanted) {
		u.t.Errorf("%s printed %q; the terminal shows:\n%s", u.name, unwanted, text)
	}
}

// quit types /quit and waits for the chat to return.
func (u *chatUser) quit() {
	u.t.Helper()
	u.say("/quit")
	select {
	case err := <-u.done:
		if err != nil {
			u.t.Errorf("%s: chat ended with %v", u.name, err)
		}
		u.done <- nil // for the cleanup
	case <-time.After(waitFor):
		u.t.Fatalf("%s: /quit did not end the chat", u.name)
	}
}

// connTracker remembers the server's connections, so that a test can cut
// them all (httptest forgets hijacked WebSocket connections).
type connTracker struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *connTracker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *connTracker) cutAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
}

// startChatServer runs what `sockio serve` runs for Socket.IO: the chat
// room on the root namespace, in memory.
func startChatServer(t *testing.T) (string, *connTracker) {
	io := sockio.NewServer(sockio.Options{})
	chat.New(io.Of("/"), chat.Options{})
	hs := httptest.NewUnstartedServer(io)
	tracker := &connTracker{Listener: hs.Listener}
	hs.Listener = tracker
	hs.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
		tracker.cutAll()
	})
	return hs.URL, tracker
}

func TestChat(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() { // runs last: after the server and the clients are gone
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines left, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
	})
	url, tracker := startChatServer(t)

	alice := startChat(t, url, "alice", "lobby", "websocket")
	alice.expect("* #lobby, you are alice")
	alice.expect("* no messages yet")
	alice.expect("* online in #lobby (1): alice")

	bob := startChat(t, url, "bob", "") // polling, then the upgrade; the default room
	bob.expect("* #lobby, you are bob")
	bob.expect("* online in #lobby (2): alice, bob")
	alice.expect("* bob joined")

	// A message: the others get it from the room, the sender from the
	// server's answer (delivered).
	bob.say("hello alice")
	alice.expect("bob: hello alice")
	bob.expect("bob: hello alice")

	// Private messages, and one to nobody.
	alice.say("/msg bob psst, just you")
	bob.expect("[private] alice -> bob: psst, just you")
	alice.expect("[private] alice -> bob: psst, just you")
	alice.say("/msg nobody hi")
	alice.expect("* not sent: nobody is not online")

	// A rename: the room is told; the online list follows.
	bob.say("/nick robert")
	alice.expect("* bob is now robert")
	bob.expect("* bob is now robert")
	bob.say("call me robert")
	alice.expect("robert: call me robert")
	alice.say("/who")
	alice.expect("* online in #lobby (2): alice, robert")

	// A late joiner gets the history (private messages are not kept).
	carol := startChat(t, url, "carol", "lobby", "polling")
	carol.expect("* the last 2 messages:")
	carol.expect("bob: hello alice")
	carol.expect("robert: call me robert")
	carol.expect("* online in #lobby (3): alice, carol, robert")
	carol.lacks("psst")

	// Every connection cut: the WebSocket clients reconnect by themselves,
	// under the same name and in the same room, without "joined" lines,
	// and the room works again. (Carol, on polling, may not even notice:
	// net/http retries a GET whose reused connection closed before any
	// answer.)
	tracker.cutAll()
	for _, u := range []*chatUser{alice, bob} {
		u.expect("* disconnected (transport close), reconnecting...")
		u.expect("* reconnected")
	}
	carol.say("are we back?")
	alice.expect("carol: are we back?")
	bob.expect("carol: are we back?")
	alice.lacks("robert joined")
	// The history that came with the new welcome was seen already.
	if n := strings.Count(alice.out.String(), "bob: hello alice"); n != 1 {
		t.Errorf("alice printed bob's message %d times", n)
	}

	// Another room: the lobby sees alice leave and no longer gets her
	// messages.
	alice.say("/join Dev")
	alice.expect("* #dev, you are alice")
	alice.expect("* no messages yet")
	alice.expect("* online in #dev (1): alice")
	bob.expect("* alice left")
	alice.say("anyone in dev?")
	alice.expect("alice: anyone in dev?") // the server sent it to #dev before answering
	bob.say("lobby only")
	bob.expect("robert: lobby only")
	carol.expect("robert: lobby only")
	bob.lacks("anyone in dev?")
	alice.lacks("lobby only")
	// The online list after alice left (the "users" event came before the
	// answer to bob's message).
	bob.say("/who")
	bob.expect("* online in #lobby (2): carol, robert")

	alice.say("/rooms")
	alice.expect("* rooms: #lobby (2), #dev (1)")
	alice.say("/frobnicate")
	alice.expect("* unknown command /frobnicate")

	for _, u := range []*chatUser{alice, bob, carol} {
		u.quit()
	}
}

// dialCutter is a client's dialer that can cut the connections it made:
// one user's network failing.
type dialCutter struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (d *dialCutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err == nil {
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
	}
	return c, err
}

func (d *dialCutter) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.Close()
	}
	d.conns = nil
}

// TestChatAway: a user whose network fails comes back under the same name,
// the others see no "joined" line, and the messages sent meanwhile are
// shown once, from the history, without what was seen before.
func TestChatAway(t *testing.T) {
	url, _ := startChatServer(t)
	alice := startChat(t, url, "alice", "lobby")
	alice.expect("* online in #lobby (1): alice")
	alice.say("before")
	alice.expect("alice: before")

	var cutter dialCutter
	tr := &http.Transport{DialContext: cutter.dial}
	t.Cleanup(tr.CloseIdleConnections) // after the chat ended
	bob := startChatWith(t, chatConfig{URL: url, Name: "bob", Room: "lobby", Options: client.Options{
		Transports:          []string{"websocket"},
		HTTPClient:          &http.Client{Transport: tr},
		ReconnectionDelay:   time.Second, // time for alice to speak
		RandomizationFactor: -1,
	}})
	bob.expect("* the last 1 messages:")
	bob.expect("alice: before")
	bob.expect("* online in #lobby (2): alice, bob")
	alice.expect("* bob joined")

	cutter.cut()
	bob.expect("* disconnected (transport close), reconnecting...")
	alice.say("while you were out")
	alice.expect("alice: while you were out")
	bob.expect("* reconnected")
	bob.expect("* while you were away:")
	bob.expect("alice: while you were out")
	if n := strings.Count(bob.out.String(), "alice: before"); n != 1 {
		t.Errorf("bob printed alice's first message %d times", n)
	}
	bob.say("back")
	alice.expect("bob: back")
	// reconnect: true in the auth asks the server for no second "joined".
	if n := strings.Count(alice.out.String(), "* bob joined"); n != 1 {
		t.Errorf("alice printed %d \"bob joined\" lines, want 1", n)
	}
	bob.quit()
	alice.quit()
}

func TestSplitTarget(t *testing.T) {
	term := &chatTerm{users: []string{"alice", "alice 2", "bob"}}
	for _, tc := range []struct{ in, to, text string }{
		{"bob hi there", "bob", "hi there"},
		{"alice 2 hi", "alice 2", "hi"},
		{"Alice hi", "alice", "hi"},
		{`"dave x" hello`, "dave x", "hello"},
		{"dave hello", "dave", "hello"},
		{"bob", "bob", ""},
	} {
		to, text := term.splitTarget(tc.in)
		if to != tc.to || text != tc.text {
			t.Errorf("splitTarget(%q) = %q, %q; want %q, %q", tc.in, to, text, tc.to, tc.text)
		}
	}
}

func TestPrintable(t *testing.T) {
	in := "hi\x1b[2J\rthere\nnext\u202eevil\ttab é"
	want := "hi\uFFFD[2J\uFFFDthere next\uFFFDevil tab é"
	if got := printable(in); got != want {
		t.Errorf("printable(%q) = %q, want %q", in, got, want)
	}
}
