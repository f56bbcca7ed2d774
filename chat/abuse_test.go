package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// allowed is the most a bucket of r lets through in elapsed: its burst,
// its refill, and one for the rounding.
func allowed(r rate, elapsed time.Duration) int {
	return r.burst + int(elapsed/r.every) + 1
}

// Twenty sockets from one address, each within its own budget, share the
// address's: for every event that has a limit. X-Forwarded-For is sent
// with a new address on each socket, and ignored (no trusted proxy).
func TestLimitsPerAddress(t *testing.T) {
	const sockets = 20
	for _, tc := range []struct {
		event string
		act   action
		arg   func(socket, round int) any
	}{
		{"join", actJoin, func(_, round int) any { return fmt.Sprintf("room-%d", round) }},
		{"rename", actJoin, func(s, round int) any { return fmt.Sprintf("user-%d-%d", s, round) }},
		{"message", actMessage, func(_, round int) any { return map[string]any{"text": fmt.Sprint("hi ", round)} }},
		{"private", actMessage, func(_, round int) any { return map[string]any{"to": "listener", "text": fmt.Sprint("psst ", round)} }},
		{"rooms", actRooms, nil},
	} {
		t.Run(tc.event, func(t *testing.T) {
			checkLeaks(t)
			url, _ := startChat(t, Options{})
			listener := dial(t, url, "listener", dialOpts{from: "127.0.0.2"})
			var socks []*wsClient
			for i := range sockets {
				h := http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i+1)}}
				socks = append(socks, dial(t, url, fmt.Sprint("s", i), dialOpts{header: h}))
			}
			perSocket := socketRates[tc.act].burst
			start := time.Now()
			passed := 0
			for round := range perSocket {
				for i, s := range socks {
					var res json.RawMessage
					if tc.arg == nil {
						res = s.call(tc.event)
					} else {
						res = s.call(tc.event, tc.arg(i, round))
					}
					if !refused(t, res) {
						passed++
					}
				}
			}
			limit := allowed(addressRates[tc.act], time.Since(start))
			if passed > limit {
				t.Errorf("%d of %d %s events passed from one address; the address allows %d", passed, sockets*perSocket, tc.event, limit)
			}
			if passed == 0 {
				t.Errorf("no %s event passed", tc.event)
			}
			// Another address keeps its own budget.
			var res json.RawMessage
			if tc.arg == nil {
				res = listener.call(tc.event)
			} else {
				res = listener.call(tc.event, tc.arg(99, 99))
			}
			if tc.event != "private" && refused(t, res) {
				t.Errorf("%s from another address refused", tc.event)
			}
		})
	}
}

// Behind a trusted proxy, X-Forwarded-For names the client: two clients
// behind it have a budget each.
func TestLimitsBehindTrustedProxy(t *testing.T) {
	checkLeaks(t)
	url, _ := startChat(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	budget := addressRates[actRooms].burst
	for _, client := range []string{"198.51.100.7", "198.51.100.8"} {
		passed := 0
		for i := range 2 * budget / socketRates[actRooms].burst {
			s := dial(t, url, fmt.Sprint(client, i), dialOpts{header: http.Header{"X-Forwarded-For": {"10.9.9.9, " + client}}})
			for range socketRates[actRooms].burst {
				if !refused(t, s.call("rooms")) {
					passed++
				}
			}
		}
		if passed < budget {
			t.Errorf("client %s behind the proxy got %d rooms answers, its budget is %d", client, passed, budget)
		}
	}
}

func TestClientAddress(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	xff := func(v ...string) http.Header { return http.Header{"X-Forwarded-For": v} }
	for _, tc := range []struct {
		peer    string
		header  http.Header
		trusted []netip.Prefix
		want    string
	}{
		{"192.0.2.1", xff("198.51.100.1"), nil, "192.0.2.1"},                        // not trusted: ignored
		{"10.0.0.1", xff("198.51.100.1"), proxy, "198.51.100.1"},                    // the proxy's word
		{"10.0.0.1", xff("6.6.6.6, 198.51.100.1, 10.0.0.2"), proxy, "198.51.100.1"}, // right-most untrusted
		{"10.0.0.1", xff("6.6.6.6", "198.51.100.1"), proxy, "198.51.100.1"},         // several headers
		{"10.0.0.1", xff("garbage, 10.0.0.3"), proxy, "10.0.0.3"},                   // garbage stops the walk
		{"10.0.0.1", nil, proxy, "10.0.0.1"},                                        // no header
		{"2001:db8:1:2:3:4:5:6", nil, nil, "2001:db8:1:2::/64"},                     // IPv6: its /64
		{"::ffff:192.0.2.9", nil, nil, "192.0.2.9"},                                 // mapped
		{"pipe", nil, nil, "pipe"},                                                  // not an IP
	} {
		if got := clientAddress(tc.peer, tc.header, tc.trusted); got != tc.want {
			t.Errorf("clientAddress(%q, %v) = %q, want %q", tc.peer, tc.header, got, tc.want)
		}
	}
}

// The per-address state is bounded, whatever the number of addresses,
// and idle addresses are forgotten.
func TestAddressTableBounded(t *testing.T) {
	l := newLimits(100)
	now := time.Unix(1000, 0)
	for i := range 10000 {
		l.allow(fmt.Sprintf("198.51.%d.%d", i/256, i%256), nil, actMessage, now)
	}
	if n := l.size(); n != 100 {
		t.Fatalf("%d addresses kept, the bound is 100", n)
	}
	// The most recent are the ones kept, with their spent tokens.
	for range addressRates[actMessage].burst - 1 {
		l.allow("198.51.39.15", nil, actMessage, now)
	}
	if l.allow("198.51.39.15", nil, actMessage, now) {
		t.Error("a kept address got a fresh budget")
	}
	l.allow("192.0.2.1", nil, actMessage, now.Add(addressIdle+time.Second))
	if n := l.size(); n != 1 {
		t.Errorf("%d addresses kept after they were idle, want 1", n)
	}
}

// Typing true and false alternated: a stop no longer resets the throttle,
// and many sockets share their address's budget.
func TestTypingThrottle(t *testing.T) {
	checkLeaks(t)
	url, _ := startChat(t, Options{})
	listener := dial(t, url, "listener", dialOpts{from: "127.0.0.2"})

	one := dial(t, url, "one", dialOpts{})
	start := time.Now()
	for range 50 {
		one.emit("typing", true)
		one.emit("typing", false)
	}
	one.call("message", map[string]any{"text": "done"}) // the typing events were handled before
	elapsed := time.Since(start)
	listener.wait("message", nil)
	starts := allowed(socketRates[actTyping], elapsed)
	if n := listener.count("typing"); n > 2*starts {
		t.Errorf("one socket: %d typing events passed on for 100 sent, at most %d allowed", n, 2*starts)
	}

	var socks []*wsClient
	for i := range 20 {
		socks = append(socks, dial(t, url, fmt.Sprint("s", i), dialOpts{}))
	}
	before := listener.count("typing")
	start = time.Now()
	for range 10 {
		for _, s := range socks {
			s.emit("typing", true)
			s.emit("typing", false)
		}
	}
	for _, s := range socks {
		s.call("rooms") // handled after its typing events
	}
	socks[0].call("message", map[string]any{"text": "done again"})
	elapsed = time.Since(start)
	listener.wait("message", func(raw json.RawMessage) bool {
		var m Message
		return json.Unmarshal(raw, &m) == nil && m.Text == "done again"
	})
	starts = allowed(addressRates[actTyping], elapsed)
	if n := listener.count("typing") - before; n > 2*starts {
		t.Errorf("20 sockets: %d typing events passed on for 400 sent, the address allows %d", n, 2*starts)
	}
}

// n people joining cost O(n) online and room lists in all, not one list
// to everyone per join: each client gets a bounded number of them.
func TestListsAreCoalesced(t *testing.T) {
	checkLeaks(t)
	const n = 60
	interval := time.Second
	url, _ := startChat(t, Options{ListInterval: interval})
	clients := make([]*wsClient, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients[i] = dial(t, url, fmt.Sprint("user", i), dialOpts{})
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Everyone ends up seeing all n online...
	for _, c := range clients {
		c.wait("users", func(raw json.RawMessage) bool {
			var u struct{ Count int }
			return json.Unmarshal(raw, &u) == nil && u.Count == n
		})
	}
	elapsed := time.Since(start)
	// ...and no list comes after the last one.
	time.Sleep(interval + interval/2)
	// Two lists (users, rooms) per update; updates are the bucket's.
	perClient := 2 * allowed(rate{listBurst, interval}, elapsed)
	total := 0
	for i, c := range clients {
		got := c.count("users") + c.count("rooms")
		total += got
		if got > perClient {
			t.Errorf("client %d got %d list messages for %d joins; at most %d allowed", i, got, n, perClient)
		}
	}
	t.Logf("%d joins: %d list messages", n, total)
}

// Look-alikes of a name in use get a suffix, as the same name does.
func TestLookAlikeNameGetsASuffix(t *testing.T) {
	checkLeaks(t)
	url, _ := startChat(t, Options{})
	alice := dial(t, url, "alice", dialOpts{})
	alice.wait("welcome", nil)
	for _, lookAlike := range []string{"\u0430lice", "ａｌｉｃｅ", "a\u0301lice"} {
		c := dial(t, url, lookAlike, dialOpts{})
		var w Welcome
		_ = json.Unmarshal(c.wait("welcome", nil), &w)
		// Each look-alike is one of the others too: " 2", " 3"...
		if !strings.HasPrefix(w.Name, lookAlike+" ") {
			t.Errorf("%q was named %q, want it with a suffix", lookAlike, w.Name)
		}
	}
	bob := dial(t, url, "bob", dialOpts{from: "127.0.0.2"})
	var r struct{ Name string }
	_ = json.Unmarshal(bob.call("rename", "AIice"), &r)
	if !strings.HasPrefix(r.Name, "AIice ") {
		t.Errorf("rename to AIice gave %q, want it with a suffix", r.Name)
	}
}

// blockingHistory is a History whose Append waits for release.
type blockingHistory struct {
	*MemoryHistory
	entered  chan Message
	release  chan struct{}
	returned atomic.Int32
}

func (h *blockingHistory) Append(ctx context.Context, m Message) error {
	h.entered <- m
	defer h.returned.Add(1)
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return h.MemoryHistory.Append(ctx, m)
}

// A History that blocks delays neither the message nor its sender's next
// ones; the replay still has them, and the history keeps their order.
func TestHistoryBlockedDeliveryGoesOn(t *testing.T) {
	checkLeaks(t)
	h := &blockingHistory{MemoryHistory: NewMemoryHistory(100, 0), entered: make(chan Message, 100), release: make(chan struct{})}
	url, c := startChat(t, Options{History: h})
	ann := dial(t, url, "ann", dialOpts{})
	bob := dial(t, url, "bob", dialOpts{})
	bob.wait("welcome", nil)

	ann.emit("message", map[string]any{"text": "m0"})
	if first := <-h.entered; first.Text != "m0" {
		t.Errorf("first write %q, want m0", first.Text)
	}
	// m0's write is in Append, blocked: m0 and the next ones are
	// delivered all the same.
	ann.call("message", map[string]any{"text": "m1"})
	ann.call("message", map[string]any{"text": "m2"})
	for i := range 3 {
		bob.wait("message", func(raw json.RawMessage) bool {
			var m Message
			return json.Unmarshal(raw, &m) == nil && m.Text == fmt.Sprint("m", i)
		})
	}
	if n := h.returned.Load(); n != 0 {
		t.Fatalf("the messages were delivered after %d history writes returned, not while blocked", n)
	}
	// A joiner's replay has them while they wait.
	carl := dial(t, url, "carl", dialOpts{})
	var w Welcome
	_ = json.Unmarshal(carl.wait("welcome", nil), &w)
	if got := texts(w.History); got != "m0,m1,m2" {
		t.Errorf("replay while the history is blocked: %s", got)
	}

	close(h.release)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := h.MemoryHistory.Recent(ctx, "lobby", 10)
	if texts(got) != "m0,m1,m2" {
		t.Errorf("history %s, want m0,m1,m2", texts(got))
	}
}

// The queue in front of a stuck History is bounded: the oldest waiting
// messages leave the history (counted), the newest stay.
func TestHistoryQueueBounded(t *testing.T) {
	checkLeaks(t)
	h := &blockingHistory{MemoryHistory: NewMemoryHistory(100, 0), entered: make(chan Message, 100), release: make(chan struct{})}
	q := newHistoryQueue(h, discard(), 3)
	q.add(Message{ID: "0", Room: "r"})
	<-h.entered // "0" is in flight
	for i := 1; i <= 5; i++ {
		q.add(Message{ID: fmt.Sprint(i), Room: "r"})
	}
	q.mu.Lock()
	dropped, waiting := q.totalDropped, len(q.pending)
	q.mu.Unlock()
	if dropped != 3 || waiting != 3 {
		t.Errorf("dropped %d, waiting %d; want 3 and 3", dropped, waiting)
	}
	close(h.release)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := q.flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := h.MemoryHistory.Recent(ctx, "r", 10)
	if ids := idsOf(got); ids != "0,4,5" {
		t.Errorf("history %s, want 0,4,5 (the in-flight one and the newest)", ids)
	}
}

func texts(ms []Message) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ","
		}
		s += m.Text
	}
	return s
}
