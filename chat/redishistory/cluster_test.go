package redishistory

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/sockiotest"
)

// The chat on two nodes of a cluster (Redis adapter, history in Redis):
// messages, online lists and the replayed history span both nodes.
func TestChatAcrossNodes(t *testing.T) {
	hist, rdb := newHistory(t, Options{})
	key := hist.opts.Prefix
	var urls []string
	for range 2 {
		io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{Adapter: redis.NewAdapter(rdb, redis.Options{Key: key})}))
		chat.New(io.Of("/"), chat.Options{History: New(rdb, hist.opts)})
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

	ann.Emit("message", map[string]any{"text": "hello from node 0"})
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

// chatClient is a chat user: a Socket.IO client named in its auth.
type chatClient struct {
	*sockiotest.Client
	t *testing.T
}

func dialChat(t *testing.T, url, name string) *chatClient {
	t.Helper()
	c := sockiotest.ConnectWith(t, url, sockiotest.ClientOptions{Name: name, Auth: map[string]any{"name": name},
		Conn: sockiotest.ConnOptions{Timeout: 5 * time.Second}})
	return &chatClient{Client: c, t: t}
}

// say sends a message and waits for its ack.
func (c *chatClient) say(text string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.EmitWithAck(ctx, "message", map[string]any{"text": text}); err != nil {
		c.t.Fatal(err)
	}
}

// until takes the first event named event for which match (a
// func(json.RawMessage) bool on its first argument, a pointer to decode
// that into, or nil) agrees, dropping the events of that name before it.
func (c *chatClient) until(event string, match any) {
	c.t.Helper()
	ev := c.AwaitFunc(event, func(e sockiotest.Event) bool {
		if m, ok := match.(func(json.RawMessage) bool); ok {
			return len(e.Args) > 0 && m(e.Args[0])
		}
		return len(e.Args) > 0
	})
	if match == nil {
		return
	}
	if _, ok := match.(func(json.RawMessage) bool); !ok {
		ev.Arg(c.t, 0, match)
	}
}
