package redishistory

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/sockiotest"
)

// startRedis runs a redis-server of the test's own on a free port, so it
// can be stopped without disturbing anyone.
func startRedis(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server on this machine")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	sockiotest.WaitFor(t, 10*time.Second, func() error {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("redis-server not listening: %w", err)
		}
		return c.Close()
	})
	return cmd, addr
}

// Redis stopped (SIGSTOP: commands hang) while people chat: the messages
// are delivered all the same, and once Redis is back the history has them,
// in order.
func TestRedisStoppedDeliveryGoesOn(t *testing.T) {
	cmd, addr := startRedis(t)
	// No read timeout: a command waits for as long as Redis is stopped,
	// as with a Redis slower than any timeout.
	rdb := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: -1, WriteTimeout: -1, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	hist := New(rdb, Options{})

	io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{}))
	c := chat.New(io.Of("/"), chat.Options{History: hist})

	ann := dialChat(t, hs.URL, "ann")
	ann.until("welcome", nil)
	bob := dialChat(t, hs.URL, "bob")
	bob.until("welcome", nil)
	say := func(text string) {
		// The message is queued for the history after its delivery and
		// before its ack: only the ack says Flush will cover it.
		ann.say(text)
		bob.until("message", func(raw json.RawMessage) bool {
			var m chat.Message
			return json.Unmarshal(raw, &m) == nil && m.Text == text
		})
	}
	say("before")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	say("while stopped 1")
	say("while stopped 2")
	// Still stopped: the history cannot have them yet, and the messages
	// came all the same. Now Redis comes back.
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := hist.Recent(ctx, "lobby", 10)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range got {
		texts = append(texts, m.Text)
	}
	if fmt.Sprint(texts) != "[before while stopped 1 while stopped 2]" {
		t.Errorf("history after Redis came back: %q", texts)
	}
}
