package chat

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio"
)

// dialV2 connects as socket.io-client 2.x does (Engine.IO 3): no CONNECT
// of its own, its identity in the query.
func dialV2(t *testing.T, url, query string) *wsClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: waitFor}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=3&transport=websocket"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &wsClient{t: t, conn: conn, done: make(chan struct{}), counts: map[string]int{},
		acks: map[int]chan json.RawMessage{}, grew: make(chan struct{}, 1)}
	go c.read(make(chan struct{}))
	t.Cleanup(func() {
		_ = c.conn.Close()
		<-c.done
	})
	return c
}

func TestV2ClientChatsWithV4Clients(t *testing.T) {
	checkLeaks(t)
	io := sockio.NewServer(sockio.Options{AllowEIO3: true})
	c := New(io.Of("/"), Options{})
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		hs.Close()
		_ = c.Flush(ctx)
	})

	bob := dial(t, hs.URL, "bob", dialOpts{})
	bob.wait("welcome", nil)
	ann := dialV2(t, hs.URL, "&name=ann&clientId=a1")
	var w Welcome
	_ = json.Unmarshal(ann.wait("welcome", nil), &w)
	if w.Name != "ann" || w.Room != "lobby" {
		t.Fatalf("welcome %+v", w)
	}
	bob.wait("system", func(m json.RawMessage) bool { return strings.Contains(string(m), `"ann joined"`) })

	if res := ann.call("message", map[string]string{"text": "hi from v2"}); !strings.Contains(string(res), `"ok":true`) {
		t.Fatalf("message refused: %s", res)
	}
	bob.wait("message", func(m json.RawMessage) bool {
		var msg Message
		return json.Unmarshal(m, &msg) == nil && msg.From == "ann" && msg.Text == "hi from v2"
	})
	bob.call("message", map[string]string{"text": "hi v2"})
	ann.wait("message", func(m json.RawMessage) bool {
		var msg Message
		return json.Unmarshal(m, &msg) == nil && msg.From == "bob" && msg.Text == "hi v2"
	})

	// Without a name in the query: a guest name.
	guest := dialV2(t, hs.URL, "")
	_ = json.Unmarshal(guest.wait("welcome", nil), &w)
	if !strings.HasPrefix(w.Name, "guest ") {
		t.Errorf("a v2 client without a name is %q", w.Name)
	}
}
