package main

import (
	"bufio"
	"context"
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

	"github.com/sockio/sockio/client"
)

// The chat protocol, in one place so that it can be aligned with the
// server's chat room: the client emits chatSend with a chatMessage and
// prints every chatReceive (the server relays to everyone, the sender
// included, so one's own lines come back too). Its name goes in the
// CONNECT auth as {"name": ...}.
const (
	chatSend    = "chat message"
	chatReceive = "chat message"
)

type chatMessage struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

func init() {
	register("chat", "a terminal chat client: sockio chat --url http://host:3000 --name alice", runChat)
}

func runChat(args []string) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	rawURL := fs.String("url", "http://localhost:3000", "server URL; a path selects the namespace")
	name := fs.String("name", os.Getenv("USER"), "your name in the room")
	transport := fs.String("transport", "", `force one transport: "polling" or "websocket"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		*name = "anonymous"
	}
	opts := client.Options{Auth: map[string]any{"name": *name}}
	if *transport != "" {
		opts.Transports = []string{*transport}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return chatClient(ctx, *rawURL, *name, opts, os.Stdin, os.Stdout)
}

// chatClient runs until ctx ends, in reaches EOF or the user types /quit.
func chatClient(ctx context.Context, rawURL, name string, opts client.Options, in io.Reader, out io.Writer) error {
	var mu sync.Mutex // lines from handlers and from the main loop
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}

	s, err := client.New(rawURL, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	s.On("connect", func() { say("* connected to %s as %s (type /quit to leave)", rawURL, name) })
	s.On("disconnect", func(reason string) {
		if s.Active() {
			say("* disconnected (%s), reconnecting...", reason)
		} else {
			say("* disconnected (%s)", reason)
		}
	})
	s.On("connect_error", func(err error) { say("* cannot connect: %v", err) })
	s.On(chatReceive, func(e *client.Event) { say("%s", formatChat(e.Args)) })

	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.Connect(cctx); err != nil {
		return fmt.Errorf("failed to join the chat: %w", err)
	}

	lines := make(chan string)
	go func() { // ends with the input; the process exits with us anyway
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			text := strings.TrimSpace(line)
			switch {
			case text == "":
			case text == "/quit":
				return nil
			default:
				// Sent now, or when the connection is back.
				if err := s.Emit(chatSend, chatMessage{Name: name, Text: text}); err != nil {
					if errors.Is(err, client.ErrBufferFull) {
						say("* not sent: offline for too long")
						continue
					}
					return err
				}
			}
		}
	}
}

// formatChat prints a chat message: {name, text}, or a plain string from a
// server that relays text only.
func formatChat(args client.Args) string {
	var m chatMessage
	if err := args.Decode(0, &m); err == nil && m.Text != "" {
		return fmt.Sprintf("%s %s: %s", time.Now().Format("15:04"), m.Name, m.Text)
	}
	var s string
	if err := args.Decode(0, &s); err == nil {
		return fmt.Sprintf("%s %s", time.Now().Format("15:04"), s)
	}
	return fmt.Sprintf("%s %s", time.Now().Format("15:04"), args)
}
