package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
)

// startRecoveringChat is startChat on a server with connection-state
// recovery on.
func startRecoveringChat(t *testing.T, opts Options) string {
	t.Helper()
	return startRecoveringNode(t, nil, opts)
}

// startRecoveringNode is startRecoveringChat on adapter (nil: in memory).
func startRecoveringNode(t *testing.T, adapter sockio.AdapterFactory, opts Options) string {
	t.Helper()
	io := sockio.NewServer(sockio.Options{
		Adapter:                 adapter,
		ConnectionStateRecovery: &sockio.RecoveryOptions{MaxDisconnectionDuration: time.Minute},
	})
	c := New(io.Of("/"), opts)
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
		_ = c.Flush(ctx)
	})
	return hs.URL
}

// session is what a client keeps to recover: its socket id and private
// id from the CONNECT answer, and the offset of the last event it got.
func (c *wsClient) session() (sid, pid, offset string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids struct{ SID, PID string }
	_ = json.Unmarshal(c.connect, &ids)
	for _, e := range c.events {
		// A recoverable broadcast carries its offset as a last, extra
		// argument: every chat event has one argument of its own.
		if len(e.parts) == 3 {
			_ = json.Unmarshal(e.parts[2], &offset)
		}
	}
	return ids.SID, ids.PID, offset
}

func (c *wsClient) eventsNamed(name string) []json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []json.RawMessage
	for _, e := range c.events {
		if e.name == name {
			out = append(out, e.arg)
		}
	}
	return out
}

// waitGone waits for a "users" list, sent after the first skip ones,
// without name: the server saw that socket go.
func waitGone(t *testing.T, c *wsClient, skip int, name string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		lists := c.eventsNamed("users")
		for _, l := range lists[min(skip, len(lists)):] {
			if !strings.Contains(string(l), `"`+name+`"`) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still listed", name)
}

func systemLines(c *wsClient, text string) int {
	n := 0
	for _, raw := range c.eventsNamed("system") {
		var s System
		if json.Unmarshal(raw, &s) == nil && s.Text == text {
			n++
		}
	}
	return n
}

// A client whose connection drops (no DISCONNECT packet: the network went
// away) while another writes comes back with its pid and offset: the same
// socket, name and room, every message it missed once and in order, no
// second welcome, no second "joined" line, and its messages still limited.
func TestRecoveredClientGetsMissedMessagesOnce(t *testing.T) {
	checkLeaks(t)
	url := startRecoveringChat(t, Options{Logger: discard(), DepartureGrace: time.Minute})
	// reconnect: true makes alice's first arrival silent too, so any
	// "alice joined" bob sees comes from her recovery.
	auth := map[string]any{"clientId": "page-a", "room": "ops", "reconnect": true}
	alice := dial(t, url, "alice", dialOpts{auth: auth})
	alice.wait("welcome", nil)
	// Another loopback address: bob's per-address budget is his own.
	bob := dial(t, url, "bob", dialOpts{from: "127.0.0.2", auth: map[string]any{"clientId": "page-b", "room": "ops"}})
	bob.wait("welcome", nil)
	alice.wait("system", func(r json.RawMessage) bool { return strings.Contains(string(r), "bob joined") })
	sid, pid, offset := alice.session()
	if pid == "" || offset == "" {
		t.Fatalf("no session to recover: pid %q offset %q (recovery off?)", pid, offset)
	}

	lists := len(bob.eventsNamed("users"))
	_ = alice.conn.Close()
	<-alice.done
	// The server noticed: alice left the room's list.
	waitGone(t, bob, lists, "alice")
	var sent []string
	for i := range 5 {
		text := fmt.Sprintf("missed %d", i)
		if res := bob.call("message", textIn{Text: text}); refused(t, res) {
			t.Fatalf("message %d refused", i)
		}
		sent = append(sent, text)
	}

	back := dial(t, url, "someone else", dialOpts{auth: map[string]any{
		"clientId": "page-a", "room": "lobby", "reconnect": true, "pid": pid, "offset": offset,
	}})
	if sid2, _, _ := back.session(); sid2 != sid {
		t.Fatalf("not recovered: socket %q, was %q", sid2, sid)
	}
	back.wait("message", func(r json.RawMessage) bool { return strings.Contains(string(r), sent[len(sent)-1]) })
	// The list refresh comes after the replay: once it is here, anything
	// replayed twice would be too.
	back.wait("users", func(r json.RawMessage) bool { return strings.Contains(string(r), `"alice"`) })
	var got []string
	for _, raw := range back.eventsNamed("message") {
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m.Room != "ops" {
			t.Errorf("message in room %q, want ops", m.Room)
		}
		got = append(got, m.Text)
	}
	if strings.Join(got, "|") != strings.Join(sent, "|") {
		t.Errorf("replayed %q, want %q", got, sent)
	}
	if n := back.count("welcome"); n != 0 {
		t.Errorf("%d welcomes after recovery, want none (the history would repeat the replay)", n)
	}

	// Same name and room: bob sees alice's next message from "alice" in ops.
	res := back.call("message", textIn{Text: "I'm back"})
	if refused(t, res) {
		t.Fatal("refused")
	}
	raw := bob.wait("message", func(r json.RawMessage) bool { return strings.Contains(string(r), "I'm back") })
	var m Message
	_ = json.Unmarshal(raw, &m)
	if m.From != "alice" || m.Room != "ops" {
		t.Errorf("after recovery alice writes as %q in %q, want alice in ops", m.From, m.Room)
	}
	// A blip is no news: no "joined" line, and within DepartureGrace no
	// "left" line either, neither to bob nor replayed to alice herself.
	if n := systemLines(bob, "alice joined"); n != 0 {
		t.Errorf(`bob saw %d "alice joined" lines after he came, want 0`, n)
	}
	if n := systemLines(bob, "alice left") + systemLines(back, "alice left"); n != 0 {
		t.Errorf(`%d "alice left" lines for a blip`, n)
	}
	// The recovered socket is still limited: a burst past the per-socket
	// budget is refused.
	refusedOnce := false
	for range 30 {
		if refused(t, back.call("message", textIn{Text: "flood"})) {
			refusedOnce = true
			break
		}
	}
	if !refusedOnce {
		t.Error("a recovered socket escaped the message limit")
	}
}

// A client whose offset is unknown is not recovered: it gets a new socket
// and the normal welcome with the history, as before recovery existed.
func TestUnrecoveredClientGetsWelcome(t *testing.T) {
	checkLeaks(t)
	url := startRecoveringChat(t, Options{Logger: discard()})
	c := dial(t, url, "carol", dialOpts{auth: map[string]any{"pid": "nope", "offset": "nope", "reconnect": true}})
	c.wait("welcome", nil)
	if _, pid, _ := c.session(); pid == "" || pid == "nope" {
		t.Errorf("pid %q: want a new one", pid)
	}
}

// Past DepartureGrace, a socket that did not come back is told gone, once.
func TestDepartureToldAfterGrace(t *testing.T) {
	checkLeaks(t)
	url := startRecoveringChat(t, Options{Logger: discard(), DepartureGrace: 200 * time.Millisecond})
	alice := dial(t, url, "alice", dialOpts{auth: map[string]any{"clientId": "page-a"}})
	alice.wait("welcome", nil)
	bob := dial(t, url, "bob", dialOpts{from: "127.0.0.2", auth: map[string]any{"clientId": "page-b"}})
	bob.wait("welcome", nil)
	_ = alice.conn.Close()
	bob.wait("system", func(r json.RawMessage) bool { return strings.Contains(string(r), "alice left") })
	// A round trip after it: a second line would be sent before its answer.
	bob.call("rooms")
	if n := systemLines(bob, "alice left"); n != 1 {
		t.Errorf(`%d "alice left" lines, want 1`, n)
	}
}

// Across nodes: alice's connection to node A drops, bob writes through
// node B, alice comes back through node B. Her socket, name and room
// arrive there decoded from the broker (not the *member node A set), and
// the chat takes them back as they are: the messages once, in order, no
// welcome, her next message from "alice" in her room.
func TestRecoveredOnAnotherNode(t *testing.T) {
	checkLeaks(t)
	broker := cluster.NewMemoryBroker()
	opts := Options{Logger: discard(), DepartureGrace: time.Minute}
	quiet := cluster.Options{Logger: discard()}
	urlA := startRecoveringNode(t, cluster.NewAdapter(broker, quiet), opts)
	urlB := startRecoveringNode(t, cluster.NewAdapter(broker, quiet), opts)

	// Silent arrival: any "alice joined" would come from her recovery.
	alice := dial(t, urlA, "alice", dialOpts{auth: map[string]any{"clientId": "page-a", "room": "ops", "reconnect": true}})
	alice.wait("welcome", nil)
	bob := dial(t, urlB, "bob", dialOpts{from: "127.0.0.2", auth: map[string]any{"clientId": "page-b", "room": "ops"}})
	bob.wait("welcome", nil)
	alice.wait("system", func(r json.RawMessage) bool { return strings.Contains(string(r), "bob joined") })
	sid, pid, offset := alice.session()
	if pid == "" || offset == "" {
		t.Fatalf("no session to recover: pid %q offset %q", pid, offset)
	}
	lists := len(bob.eventsNamed("users"))
	_ = alice.conn.Close()
	<-alice.done
	waitGone(t, bob, lists, "alice")
	var sent []string
	for i := range 5 {
		text := fmt.Sprintf("through B %d", i)
		if refused(t, bob.call("message", textIn{Text: text})) {
			t.Fatalf("message %d refused", i)
		}
		sent = append(sent, text)
	}

	back := dial(t, urlB, "x", dialOpts{auth: map[string]any{
		"clientId": "page-a", "room": "lobby", "reconnect": true, "pid": pid, "offset": offset,
	}})
	if sid2, _, _ := back.session(); sid2 != sid {
		t.Fatalf("not recovered on node B: socket %q, was %q", sid2, sid)
	}
	back.wait("users", func(r json.RawMessage) bool { return strings.Contains(string(r), `"alice"`) })
	var got []string
	for _, raw := range back.eventsNamed("message") {
		var m Message
		_ = json.Unmarshal(raw, &m)
		got = append(got, m.Text)
	}
	if strings.Join(got, "|") != strings.Join(sent, "|") {
		t.Errorf("replayed %q, want %q", got, sent)
	}
	if n := back.count("welcome"); n != 0 {
		t.Errorf("%d welcomes after recovery, want none", n)
	}
	if refused(t, back.call("message", textIn{Text: "hello from B"})) {
		t.Fatal("refused")
	}
	raw := bob.wait("message", func(r json.RawMessage) bool { return strings.Contains(string(r), "hello from B") })
	var m Message
	_ = json.Unmarshal(raw, &m)
	if m.From != "alice" || m.Room != "ops" {
		t.Errorf("after recovery on B alice writes as %q in %q, want alice in ops", m.From, m.Room)
	}
	if n := systemLines(bob, "alice left") + systemLines(bob, "alice joined"); n != 0 {
		t.Errorf("%d joined/left lines about alice's blip", n)
	}
}

// A page that says goodbye (a DISCONNECT, as chat.js sends on pagehide)
// and closes at once is told gone at once: DepartureGrace is for lost
// connections only.
func TestGoodbyeToldAtOnce(t *testing.T) {
	checkLeaks(t)
	url := startRecoveringChat(t, Options{Logger: discard(), DepartureGrace: time.Minute})
	alice := dial(t, url, "alice", dialOpts{auth: map[string]any{"clientId": "page-a"}})
	alice.wait("welcome", nil)
	bob := dial(t, url, "bob", dialOpts{from: "127.0.0.2", auth: map[string]any{"clientId": "page-b"}})
	bob.wait("welcome", nil)
	alice.write("41")
	_ = alice.conn.Close()
	bob.wait("system", func(r json.RawMessage) bool { return strings.Contains(string(r), "alice left") })
}
