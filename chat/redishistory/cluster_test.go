package redishistory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/chat"
)

// The chat on two nodes of a cluster (Redis adapter, history in Redis):
// messages, online lists and the replayed history span both nodes.
func TestChatAcrossNodes(t *testing.T) {
	hist, rdb := newHistory(t, Options{})
	key := hist.opts.Prefix
	var urls []string
	for range 2 {
		io := sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(rdb, redis.Options{Key: key})})
		chat.New(io.Of("/"), chat.Options{History: New(rdb, hist.opts)})
		hs := httptest.NewServer(io)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = io.Close(ctx)
			hs.Close()
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := io.Of("/").Adapter().(*redis.Adapter).WaitSubscribed(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		urls = append(urls, hs.URL)
	}

	ann := dialChat(t, urls[0], "ann")
	ann.until("welcome", nil)
	bob := dialChat(t, urls[1], "bob")
	var w chat.Welcome
	bob.until("welcome", &w)
	if got := userNames(w.Users); got != "ann,bob" {
		t.Errorf("bob's welcome users: %s", got)
	}
	// ann's online list, pushed from bob's node.
	ann.until("users", func(raw json.RawMessage) bool {
		var u struct{ Users []chat.User }
		_ = json.Unmarshal(raw, &u)
		return userNames(u.Users) == "ann,bob"
	})

	ann.send(`421["message",{"text":"hello from node 0"}]`)
	var m chat.Message
	bob.until("message", &m)
	if m.From != "ann" || m.Text != "hello from node 0" {
		t.Errorf("bob got %+v", m)
	}

	carl := dialChat(t, urls[1], "carl")
	carl.until("welcome", &w)
	if len(w.History) != 1 || w.History[0].Text != "hello from node 0" || userNames(w.Users) != "ann,bob,carl" {
		t.Errorf("carl's welcome: %+v", w)
	}
}

func userNames(us []chat.User) string {
	var s []string
	for _, u := range us {
		s = append(s, u.Name)
	}
	return strings.Join(s, ",")
}

type chatClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialChat(t *testing.T, url, name string) *chatClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	c := &chatClient{t: t, ws: ws}
	c.read() // open
	c.send(fmt.Sprintf(`40{"name":%q}`, name))
	// A broadcast may come before the CONNECT answer (the official client
	// buffers those); skip to it.
	for range 10 {
		if strings.HasPrefix(c.read(), "40{") {
			return c
		}
	}
	t.Fatal("no CONNECT answer")
	return nil
}

func (c *chatClient) send(s string) {
	_ = c.ws.WriteMessage(websocket.TextMessage, []byte(s))
}

func (c *chatClient) read() string {
	c.t.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatal(err)
		}
		if string(data) == "2" {
			c.send("3")
			continue
		}
		return string(data)
	}
}

// untilAck reads packets until the ack with the given id comes.
func (c *chatClient) untilAck(id int) {
	c.t.Helper()
	want := "43" + strconv.Itoa(id) + "["
	for range 50 {
		if strings.HasPrefix(c.read(), want) {
			return
		}
	}
	c.t.Fatalf("no ack %d", id)
}

// until reads events until one named event comes for which match (a
// func(json.RawMessage) bool, a pointer to decode into, or nil) agrees.
func (c *chatClient) until(event string, match any) {
	c.t.Helper()
	for range 50 {
		msg := c.read()
		if !strings.HasPrefix(msg, "42[") {
			continue
		}
		var parts []json.RawMessage
		if json.Unmarshal([]byte(msg[2:]), &parts) != nil || len(parts) < 2 || string(parts[0]) != `"`+event+`"` {
			continue
		}
		switch m := match.(type) {
		case nil:
			return
		case func(json.RawMessage) bool:
			if m(parts[1]) {
				return
			}
		default:
			if err := json.Unmarshal(parts[1], m); err != nil {
				c.t.Fatal(err)
			}
			return
		}
	}
	c.t.Fatalf("no matching %q event", event)
}
