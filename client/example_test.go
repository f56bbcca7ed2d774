package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
)

// exampleServer is a sockio server on 127.0.0.1 for the examples.
func exampleServer() (url string, stop func()) {
	io := sockio.NewServer(sockio.Options{})
	io.OnConnection(func(s *sockio.Socket) {
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
	})
	io.Of("/chat").OnConnection(func(s *sockio.Socket) {
		_ = s.Emit("welcome", fmt.Sprintf("welcome, %v", s.Handshake().Auth["name"]))
	})
	io.Of("/admin").Use(func(s *sockio.Socket) error {
		return &sockio.ConnectError{Message: "forbidden", Data: map[string]any{"need": "role"}}
	})
	srv := httptest.NewServer(io)
	return srv.URL, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Close(ctx)
		srv.Close()
	}
}

func ExampleConnect() {
	url, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	s, err := client.Connect(ctx, url+"/", client.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	res, err := s.EmitWithAck(ctx, "echo", "hello", 42, []byte{1, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	vals, _ := res.Values()
	fmt.Println(vals...)
	// Output: hello 42 [1 2]
}

// Register handlers before connecting, so that no event is missed.
func ExampleNew() {
	url, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	s, err := client.New(url+"/chat", client.Options{Auth: map[string]any{"name": "alice"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	done := make(chan struct{})
	s.On("welcome", func(msg string) {
		fmt.Println(msg)
		close(done)
	})
	if err := s.Connect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	<-done
	// Output: welcome, alice
}

// A namespace middleware refused the connection.
func ExampleConnectError() {
	url, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, err := client.Connect(ctx, url+"/admin", client.Options{})
	var ce *client.ConnectError
	if errors.As(err, &ce) {
		fmt.Println(ce.Message, ce.Data)
	}
	// Output: forbidden map[need:role]
}

func ExampleSocket_Timeout() {
	url, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	s, err := client.Connect(ctx, url, client.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	done := make(chan struct{})
	// Nobody acknowledges "unknown": the callback gets ErrTimeout.
	_ = s.Timeout(100*time.Millisecond).Emit("unknown", func(err error) {
		fmt.Println(err)
		close(done)
	})
	<-done
	// A typed callback: the error first, then the acknowledgement's arguments.
	done = make(chan struct{})
	_ = s.Timeout(time.Second).Emit("echo", "hi", func(err error, msg string) {
		fmt.Println(msg, err)
		close(done)
	})
	<-done
	// Output:
	// operation has timed out
	// hi <nil>
}

// Several namespaces share one connection.
func ExampleManager() {
	url, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	m, err := client.NewManager(url, client.Options{Transports: []string{"websocket"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	root := m.Socket("/", client.SocketOptions{})
	chat := m.Socket("/chat", client.SocketOptions{Auth: map[string]any{"name": "bob"}})
	welcome := make(chan string, 1)
	chat.On("welcome", func(msg string) { welcome <- msg })
	for _, s := range []*client.Socket{root, chat} {
		if err := s.Connect(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(<-welcome, m.Transport())
	// Output: welcome, bob websocket
}
