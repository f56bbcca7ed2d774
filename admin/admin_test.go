package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/admin"
	"github.com/sockio/sockio/client"
)

// ui is the Go client acting as the Admin UI: it records what the server
// sends on /admin.
type ui struct {
	s *client.Socket

	mu        sync.Mutex
	session   string
	config    []string
	sockets   []admin.SerializedSocket
	stats     []map[string]any
	connected []admin.SerializedSocket
	gone      []string
	joined    [][2]string
	received  []string
	notify    chan struct{}
}

func (u *ui) poke() {
	select {
	case u.notify <- struct{}{}:
	default:
	}
}

func newUI(t *testing.T, url string, auth map[string]any) (*ui, error) {
	t.Helper()
	u := &ui{notify: make(chan struct{}, 1)}
	s, err := client.New(url+"/admin", client.Options{Auth: auth, DisableReconnection: true, Transports: []string{"websocket"}})
	if err != nil {
		t.Fatalf("failed to create client: %v", err)
	}
	u.s = s
	s.On("session", func(id string) { u.mu.Lock(); u.session = id; u.mu.Unlock(); u.poke() })
	s.On("config", func(c struct {
		SupportedFeatures []string `json:"supportedFeatures"`
	}) {
		u.mu.Lock()
		u.config = c.SupportedFeatures
		u.mu.Unlock()
		u.poke()
	})
	s.On("all_sockets", func(ss []admin.SerializedSocket) { u.mu.Lock(); u.sockets = ss; u.mu.Unlock(); u.poke() })
	s.On("server_stats", func(st map[string]any) { u.mu.Lock(); u.stats = append(u.stats, st); u.mu.Unlock(); u.poke() })
	s.On("socket_connected", func(ss admin.SerializedSocket, _ time.Time) {
		u.mu.Lock()
		u.connected = append(u.connected, ss)
		u.mu.Unlock()
		u.poke()
	})
	s.On("socket_disconnected", func(nsp, id, reason string, _ time.Time) {
		u.mu.Lock()
		u.gone = append(u.gone, nsp+" "+id)
		u.mu.Unlock()
		u.poke()
	})
	s.On("room_joined", func(nsp, room, id string, _ time.Time) {
		u.mu.Lock()
		u.joined = append(u.joined, [2]string{room, id})
		u.mu.Unlock()
		u.poke()
	})
	s.On("event_received", func(nsp, id string, args []json.RawMessage, _ time.Time) {
		u.mu.Lock()
		if len(args) > 0 {
			u.received = append(u.received, string(args[0]))
		}
		u.mu.Unlock()
		u.poke()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	t.Cleanup(func() { _ = s.Close() })
	return u, nil
}

// wait polls cond, under the ui's lock, until it holds or 5s passed.
func (u *ui) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		u.mu.Lock()
		ok := cond()
		u.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-u.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func setup(t *testing.T, o admin.Options) (*sockio.Server, string) {
	t.Helper()
	srv := sockio.NewServer(sockio.Options{})
	srv.Of("/chat").OnConnection(func(s *sockio.Socket) {
		s.Join("lobby")
		s.On("hello", func(string) {})
	})
	if o.StatsInterval == 0 {
		o.StatsInterval = 50 * time.Millisecond
	}
	a, err := admin.Instrument(srv, o)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		a.Close()
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return srv, hs.URL
}

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func chatClient(t *testing.T, url string) *client.Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, url+"/chat", client.Options{DisableReconnection: true})
	if err != nil {
		t.Fatalf("chat connect: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestInstrumentRefusesBadHash(t *testing.T) {
	srv := sockio.NewServer(sockio.Options{})
	if _, err := admin.Instrument(srv, admin.Options{Username: "admin", PasswordHash: "plain"}); err == nil {
		t.Fatal("a password that is not a bcrypt hash was accepted")
	}
	if _, err := admin.Instrument(srv, admin.Options{}); err == nil {
		t.Fatal("no credentials and no NoAuth was accepted")
	}
}

func TestAuth(t *testing.T) {
	_, url := setup(t, admin.Options{Username: "admin", PasswordHash: hash(t, "s3cret")})

	for _, auth := range []map[string]any{
		nil,
		{"username": "admin", "password": "wrong"},
		{"username": "root", "password": "s3cret"},
		{"sessionId": "made-up"},
	} {
		_, err := newUI(t, url, auth)
		var ce *client.ConnectError
		if !errors.As(err, &ce) || ce.Message != "invalid credentials" {
			t.Fatalf("auth %v: got %v, want connect error \"invalid credentials\"", auth, err)
		}
	}

	u, err := newUI(t, url, map[string]any{"username": "admin", "password": "s3cret"})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	u.wait(t, "a session id", func() bool { return u.session != "" })
	u.mu.Lock()
	sid := u.session
	u.mu.Unlock()

	// The session id alone logs in again (the UI's reconnections), and no
	// new session is handed out.
	u2, err := newUI(t, url, map[string]any{"sessionId": sid})
	if err != nil {
		t.Fatalf("login with session id: %v", err)
	}
	u2.wait(t, "config", func() bool { return u2.config != nil })
	u2.mu.Lock()
	defer u2.mu.Unlock()
	if u2.session != "" {
		t.Fatalf("a session-id login was given a new session %q", u2.session)
	}
}

func TestStatsSocketsAndActions(t *testing.T) {
	srv, url := setup(t, admin.Options{Username: "admin", PasswordHash: hash(t, "pw"), ServerID: "node-a"})
	c1 := chatClient(t, url)
	u, err := newUI(t, url, map[string]any{"username": "admin", "password": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	u.wait(t, "config", func() bool { return u.config != nil })
	u.mu.Lock()
	for _, f := range []string{admin.FeatureDisconnect, admin.FeatureJoin, admin.FeatureLeave, admin.FeatureAllEvents, admin.FeatureAggregatedEvents} {
		if !slices.Contains(u.config, f) {
			t.Errorf("feature %s missing from %v", f, u.config)
		}
	}
	u.mu.Unlock()

	// all_sockets lists the chat socket with its rooms and transport.
	u.wait(t, "the chat socket in all_sockets", func() bool {
		for _, s := range u.sockets {
			if s.ID == c1.ID() && s.Nsp == "/chat" && slices.Contains(s.Rooms, "lobby") && s.Transport != "" && s.ClientID != "" {
				return true
			}
		}
		return false
	})

	// Stats name the server and count the /chat socket.
	u.wait(t, "stats counting /chat", func() bool {
		for _, st := range u.stats {
			if st["serverId"] != "node-a" {
				continue
			}
			nsps, _ := st["namespaces"].([]any)
			for _, n := range nsps {
				m, _ := n.(map[string]any)
				if m["name"] == "/chat" && m["socketsCount"] == float64(1) {
					return true
				}
			}
		}
		return false
	})
	// A new socket is reported, and so is an event it sends.
	c2 := chatClient(t, url)
	u.wait(t, "socket_connected for c2", func() bool {
		return slices.ContainsFunc(u.connected, func(s admin.SerializedSocket) bool { return s.ID == c2.ID() })
	})
	if err := c2.Emit("hello", "there"); err != nil {
		t.Fatal(err)
	}
	u.wait(t, "event_received hello", func() bool { return slices.Contains(u.received, `"hello"`) })
	// The packets the connections carried show up as aggregated events.
	u.wait(t, "a packetsIn aggregated event", func() bool {
		for _, st := range u.stats {
			evs, _ := st["aggregatedEvents"].([]any)
			for _, e := range evs {
				if m, _ := e.(map[string]any); m["type"] == "packetsIn" && m["count"].(float64) > 0 {
					return true
				}
			}
		}
		return false
	})

	// join: the UI makes c2 join "vip" (filter = its id); room_joined follows.
	if err := u.s.Emit("join", "/chat", "vip", c2.ID()); err != nil {
		t.Fatal(err)
	}
	u.wait(t, "room_joined vip", func() bool { return slices.Contains(u.joined, [2]string{"vip", c2.ID()}) })
	if s := srv.Of("/chat").Socket(c2.ID()); s == nil || !slices.Contains(s.Rooms(), "vip") {
		t.Fatal("c2 is not in vip on the server")
	}
	if s := srv.Of("/chat").Socket(c1.ID()); s == nil || slices.Contains(s.Rooms(), "vip") {
		t.Fatal("c1 joined vip too")
	}

	// _disconnect: the UI disconnects c1 only. (The client forgets its id
	// once disconnected: keep it.)
	id1 := c1.ID()
	if err := u.s.Emit("_disconnect", "/chat", false, id1); err != nil {
		t.Fatal(err)
	}
	u.wait(t, "socket_disconnected c1", func() bool { return slices.Contains(u.gone, "/chat "+id1) })
	if srv.Of("/chat").Socket(id1) != nil {
		t.Fatal("c1 still on the server")
	}
	if srv.Of("/chat").Socket(c2.ID()) == nil {
		t.Fatal("c2 was disconnected too")
	}

	// An action on a namespace that does not exist does not create it.
	if err := u.s.Emit("join", "/nope", "x", ""); err != nil {
		t.Fatal(err)
	}
	if err := u.s.Emit("_disconnect", "/chat", false, "no-such-room"); err != nil {
		t.Fatal(err)
	}
	n := len(u.statsSnapshot())
	u.wait(t, "two more stats", func() bool { return len(u.stats) >= n+2 })
	for _, ns := range srv.Namespaces() {
		if ns.Name() == "/nope" {
			t.Fatal("the admin created namespace /nope")
		}
	}
}

func (u *ui) statsSnapshot() []map[string]any {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.stats)
}

func TestReadOnlyRefusesActions(t *testing.T) {
	srv, url := setup(t, admin.Options{Username: "admin", PasswordHash: hash(t, "pw"), ReadOnly: true})
	c1 := chatClient(t, url)
	u, err := newUI(t, url, map[string]any{"username": "admin", "password": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	u.wait(t, "config", func() bool { return u.config != nil })
	u.mu.Lock()
	for _, f := range []string{admin.FeatureEmit, admin.FeatureJoin, admin.FeatureLeave, admin.FeatureDisconnect,
		admin.FeatureMJoin, admin.FeatureMLeave, admin.FeatureMDisconnect} {
		if slices.Contains(u.config, f) {
			t.Errorf("read-only announced %s", f)
		}
	}
	u.mu.Unlock()

	for _, ev := range [][]any{
		{"_disconnect", "/chat", true, c1.ID()},
		{"_disconnect", "/chat", false},
		{"join", "/chat", "vip", c1.ID()},
		{"leave", "/chat", "lobby", c1.ID()},
	} {
		if err := u.s.Emit(ev[0].(string), ev[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	// The actions went before this round of stats on the same connection;
	// had they been carried out, the effects would be there by now.
	n := len(u.statsSnapshot())
	u.wait(t, "three more stats", func() bool { return len(u.stats) >= n+3 })
	s := srv.Of("/chat").Socket(c1.ID())
	if s == nil || !c1.Connected() {
		t.Fatal("read-only admin disconnected a socket")
	}
	if rooms := s.Rooms(); slices.Contains(rooms, "vip") || !slices.Contains(rooms, "lobby") {
		t.Fatalf("read-only admin changed rooms: %v", rooms)
	}
}

// TestCluster runs two nodes on one in-process broker: the UI logged in to
// node B sees node A's stats and sockets, and disconnects a socket of A.
func TestCluster(t *testing.T) {
	broker := cluster.NewMemoryBroker()
	h := hash(t, "pw")
	node := func(id string) (*sockio.Server, string) {
		srv := sockio.NewServer(sockio.Options{Adapter: cluster.NewAdapter(broker, cluster.Options{
			HeartbeatInterval: 100 * time.Millisecond,
			RequestsTimeout:   2 * time.Second,
		})})
		srv.Of("/chat").OnConnection(func(s *sockio.Socket) { s.Join("lobby") })
		a, err := admin.Instrument(srv, admin.Options{Username: "admin", PasswordHash: h, ServerID: id, StatsInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		t.Cleanup(func() {
			a.Close()
			hs.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Close(ctx)
		})
		return srv, hs.URL
	}
	srvA, urlA := node("node-a")
	_, urlB := node("node-b")
	c1 := chatClient(t, urlA)
	id1 := c1.ID()

	// Each node's stats reach the UI through the adapter.
	u, err := newUI(t, urlB, map[string]any{"username": "admin", "password": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	u.wait(t, "stats of both nodes", func() bool {
		ids := map[any]bool{}
		for _, st := range u.stats {
			ids[st["serverId"]] = true
		}
		return ids["node-a"] && ids["node-b"]
	})

	// The first list comes from FetchSockets over the cluster. It may be
	// asked before B has heard of A: log in again until it has c1.
	found := func(ss []admin.SerializedSocket) bool {
		return slices.ContainsFunc(ss, func(s admin.SerializedSocket) bool {
			return s.ID == id1 && s.Nsp == "/chat" && slices.Contains(s.Rooms, "lobby")
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		u.wait(t, "all_sockets", func() bool { return u.sockets != nil })
		u.mu.Lock()
		ok := found(u.sockets)
		u.mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node A's socket never listed by node B")
		}
		time.Sleep(100 * time.Millisecond)
		if u, err = newUI(t, urlB, map[string]any{"username": "admin", "password": "pw"}); err != nil {
			t.Fatal(err)
		}
	}

	// A socket connecting to A is reported to the UI on B.
	c2 := chatClient(t, urlA)
	u.wait(t, "socket_connected from node A", func() bool {
		return slices.ContainsFunc(u.connected, func(s admin.SerializedSocket) bool { return s.ID == c2.ID() && s.Transport != "" })
	})

	// The UI on B disconnects c1, which is on A.
	if err := u.s.Emit("_disconnect", "/chat", false, id1); err != nil {
		t.Fatal(err)
	}
	u.wait(t, "socket_disconnected from node A", func() bool { return slices.Contains(u.gone, "/chat "+id1) })
	if srvA.Of("/chat").Socket(id1) != nil {
		t.Fatal("c1 still on node A")
	}
	if srvA.Of("/chat").Socket(c2.ID()) == nil {
		t.Fatal("c2 was disconnected too")
	}
}

func TestProductionStatsOnly(t *testing.T) {
	_, url := setup(t, admin.Options{Username: "admin", PasswordHash: hash(t, "pw"), Production: true})
	u, err := newUI(t, url, map[string]any{"username": "admin", "password": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	u.wait(t, "config", func() bool { return u.config != nil })
	chatClient(t, url)
	u.wait(t, "stats counting /chat", func() bool {
		for _, st := range u.stats {
			nsps, _ := st["namespaces"].([]any)
			for _, n := range nsps {
				if m, _ := n.(map[string]any); m["name"] == "/chat" && m["socketsCount"] == float64(1) {
					return true
				}
			}
		}
		return false
	})
	n := len(u.statsSnapshot())
	u.wait(t, "two more stats", func() bool { return len(u.stats) >= n+2 })
	u.mu.Lock()
	defer u.mu.Unlock()
	if slices.Contains(u.config, admin.FeatureAllEvents) || u.sockets != nil || len(u.connected) > 0 || len(u.joined) > 0 {
		t.Fatalf("production mode reported sockets: config %v, all_sockets %v, connected %d, joined %d",
			u.config, u.sockets, len(u.connected), len(u.joined))
	}
}
