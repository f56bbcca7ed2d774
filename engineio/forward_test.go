package engineio

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio/engineio/packet"
)

// staticPeers is a directory the test fills in.
type staticPeers struct {
	mu    sync.Mutex
	urls  map[string]string
	pick  string
	calls int
}

func (p *staticPeers) set(node, url string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.urls == nil {
		p.urls = map[string]string{}
	}
	p.urls[node] = url
}

func (p *staticPeers) Lookup(node string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	u, ok := p.urls[node]
	return u, ok
}

func (p *staticPeers) Pick() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pick, p.pick != ""
}

// twoNodes starts nodes "a" and "b", each knowing the other.
func twoNodes(t *testing.T, opts Options) (a, b *testNode) {
	t.Helper()
	peers := &staticPeers{}
	a, b = &testNode{}, &testNode{}
	for _, n := range []struct {
		node *testNode
		name string
	}{{a, "a"}, {b, "b"}} {
		o := opts
		o.Forwarding = &Forwarding{Node: n.name, Peers: peers}
		n.node.srv, n.node.hs, n.node.sessions, n.node.recs = newServer(t, o)
		peers.set(n.name, n.node.hs.URL)
	}
	a.peers, b.peers = peers, peers
	return a, b
}

type testNode struct {
	srv      *Server
	hs       *httptest.Server
	sessions chan *Session
	recs     chan *recorder
	peers    *staticPeers
}

func fget(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func post(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	return do(t, req)
}

func TestForwardedPolling(t *testing.T) {
	a, b := twoNodes(t, Options{PingInterval: time.Hour})
	sid := handshake(t, a.hs)
	if !strings.HasPrefix(sid, "a.") {
		t.Fatalf("sid %q does not name its node", sid)
	}
	s, rec := <-a.sessions, <-a.recs
	bURL := b.peers.urls["b"]

	// A POST through b reaches the session on a, in order.
	res, body := post(t, bURL+"/?EIO=4&transport=polling&sid="+sid, "4one\x1e4two")
	if res.StatusCode != 200 || body != "ok" {
		t.Fatalf("forwarded POST: %d %q", res.StatusCode, body)
	}
	rec.mu.Lock()
	got := strings.Join(rec.msgs, ",")
	rec.mu.Unlock()
	if got != "one,two" {
		t.Fatalf("session on a got %q", got)
	}
	// A GET through b carries what a queued.
	if err := s.Send(SendOptions{}, msgPacket("hello")); err != nil {
		t.Fatal(err)
	}
	res, body = fget(t, bURL+"/?EIO=4&transport=polling&sid="+sid, nil)
	if res.StatusCode != 200 || body != "4hello" {
		t.Fatalf("forwarded GET: %d %q", res.StatusCode, body)
	}
	if len(b.srv.sessions) != 0 {
		t.Fatal("b opened a session of its own")
	}
}

func TestForwardedUpgrade(t *testing.T) {
	a, b := twoNodes(t, Options{PingInterval: time.Hour})
	sid := handshake(t, a.hs)
	s, rec := <-a.sessions, <-a.recs
	bURL := b.peers.urls["b"]
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(bURL, "http")+"/?EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "3probe" {
		t.Fatalf("probe through b: %q, %v", data, err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	deadline := time.Now().Add(5 * time.Second)
	for s.Transport() != WebSocket {
		if time.Now().After(deadline) {
			t.Fatal("the session on a did not upgrade")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4over ws"))
	if err := s.Send(SendOptions{}, msgPacket("back")); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "4back" {
		t.Fatalf("read through b: %q, %v", data, err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		rec.mu.Lock()
		n := len(rec.msgs)
		rec.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("message over the forwarded websocket not delivered")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestForwardRefusals(t *testing.T) {
	a, b := twoNodes(t, Options{PingInterval: time.Hour})
	bURL := b.peers.urls["b"]
	unknown := `{"code":1,"message":"Session ID unknown"}`
	sid := handshake(t, a.hs)
	<-a.sessions

	// A session of a node nobody knows (gone from the directory).
	res, body := fget(t, bURL+"/?EIO=4&transport=polling&sid=zz."+sid[2:], nil)
	if res.StatusCode != 400 || body != unknown {
		t.Fatalf("unknown node: %d %q", res.StatusCode, body)
	}
	// A session its own node no longer has is not sent anywhere.
	calls := b.peers.calls
	res, body = fget(t, bURL+"/?EIO=4&transport=polling&sid=b.nothere", nil)
	if res.StatusCode != 400 || body != unknown || b.peers.calls != calls {
		t.Fatalf("own node: %d %q, lookups %d → %d", res.StatusCode, body, calls, b.peers.calls)
	}
	// A request forwarded once is never forwarded again: no loop.
	res, body = fget(t, bURL+"/?EIO=4&transport=polling&sid="+sid, http.Header{ForwardedHeader: {"c"}})
	if res.StatusCode != 400 || body != unknown {
		t.Fatalf("forwarded twice: %d %q", res.StatusCode, body)
	}
	// The owner is down: the session is gone, for the client.
	a.peers.set("a", "http://127.0.0.1:1")
	res, body = fget(t, bURL+"/?EIO=4&transport=polling&sid="+sid, nil)
	if res.StatusCode != 400 || body != unknown {
		t.Fatalf("owner down: %d %q", res.StatusCode, body)
	}
	_, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(bURL, "http")+"/?EIO=4&transport=websocket&sid="+sid, nil)
	if err == nil {
		t.Fatal("upgrade to a dead owner succeeded")
	}
}

func TestForwardedCORSOnce(t *testing.T) {
	a, b := twoNodes(t, Options{PingInterval: time.Hour, AllowedOrigins: []string{"https://app.example"}})
	sid := handshake(t, a.hs)
	s := <-a.sessions
	if err := s.Send(SendOptions{}, msgPacket("x")); err != nil { // the GET returns at once
		t.Fatal(err)
	}
	res, _ := fget(t, b.peers.urls["b"]+"/?EIO=4&transport=polling&sid="+sid, http.Header{"Origin": {"https://app.example"}})
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://app.example" {
		t.Fatalf("Access-Control-Allow-Origin %q: want the origin once", got)
	}
}

func TestDrainPassesHandshakes(t *testing.T) {
	a, b := twoNodes(t, Options{PingInterval: time.Hour})
	a.peers.pick = b.peers.urls["b"]
	a.srv.Drain()
	if !a.srv.Draining() {
		t.Fatal("Draining false after Drain")
	}
	sid := handshake(t, a.hs)
	if !strings.HasPrefix(sid, "b.") {
		t.Fatalf("a draining node opened session %q itself", sid)
	}
	<-b.sessions
	// A websocket would be piped through the draining node: refused.
	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.peers.urls["a"], "http")+"/?EIO=4&transport=websocket", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("websocket handshake on a draining node: %v, %v", res, err)
	}
	// No peer to take it: polling is refused too.
	a.peers.pick = ""
	r, _ := fget(t, a.peers.urls["a"]+"/?EIO=4&transport=polling", nil)
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Fatalf("polling handshake, no peer: %d", r.StatusCode)
	}
}

func TestForwardingOptionChecked(t *testing.T) {
	for _, node := range []string{"", "a.b", strings.Repeat("x", 33), "é"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("node %q accepted", node)
				}
			}()
			NewServer(Options{Forwarding: &Forwarding{Node: node, Peers: &staticPeers{}}})
		}()
	}
}

func msgPacket(s string) packet.Packet { return packet.Packet{Type: packet.Message, Data: []byte(s)} }

// TestCloseReleasesForwardedPolls: a node going away has the owners answer
// the long polls it forwards now (a noop, or what they have), so that its
// HTTP server's shutdown does not wait a ping interval for each; the
// owner's session goes on.
func TestCloseReleasesForwardedPolls(t *testing.T) {
	a, b := twoNodes(t, Options{PingInterval: time.Hour})
	sid := handshake(t, a.hs)
	<-a.sessions
	type result struct {
		code int
		body string
	}
	got := make(chan result, 1)
	go func() {
		res, body := fget(t, b.peers.urls["b"]+"/?EIO=4&transport=polling&sid="+sid, nil)
		got <- result{res.StatusCode, body}
	}()
	waitForPoll(t, a.srv, sid) // waits on a: nothing to send
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.srv.Close(ctx, "")
	select {
	case r := <-got:
		if r.code != 200 || r.body != "6" {
			t.Fatalf("forwarded poll answered %d %q, want a noop", r.code, r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the forwarded poll outlived its node's close")
	}
	time.Sleep(50 * time.Millisecond)
	if a.srv.Session(sid) == nil {
		t.Fatal("the owner's session ended")
	}
}

func waitForPoll(t *testing.T, srv *Server, sid string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if s := srv.Session(sid); s != nil {
			s.mu.Lock()
			waiting := s.poll != nil
			s.mu.Unlock()
			if waiting {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no poll waiting")
		}
	}
}
