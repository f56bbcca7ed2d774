package sockio_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sockio/sockio"
)

// A chat server: every message is broadcast to the room, and "echo" is
// acknowledged with its arguments. The client here speaks the wire protocol
// by hand to show what travels; a real app uses the official client.
func Example() {
	io := sockio.NewServer(sockio.Options{})
	io.OnConnection(func(s *sockio.Socket) {
		s.Join("lobby")
		s.On("chat message", func(msg string) { _ = io.To("lobby").Emit("chat message", msg) })
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	read := func() string {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, _ := ws.ReadMessage()
		return string(b)
	}
	read() // the Engine.IO open packet
	_ = ws.WriteMessage(websocket.TextMessage, []byte("40"))
	fmt.Println(read()[:8]) // CONNECT answer with the socket id
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`421["echo",{"b":1,"a":[true]}]`))
	fmt.Println(read())
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`42["chat message","hi all"]`))
	fmt.Println(read())
	// Output:
	// 40{"sid"
	// 431[{"b":1,"a":[true]}]
	// 42["chat message","hi all"]
}

// Namespace middleware refuses a connection with a message and data, which
// the client receives as a connect_error.
func ExampleNamespace_Use() {
	io := sockio.NewServer(sockio.Options{})
	admin := io.Of("/admin")
	admin.Use(func(s *sockio.Socket) error {
		if s.Handshake().Auth["token"] != "secret" {
			return &sockio.ConnectError{Message: "unauthorized", Data: map[string]string{"hint": "send auth.token"}}
		}
		return nil
	})
	admin.OnConnection(func(s *sockio.Socket) { _ = s.Emit("welcome", "admin") })
	fmt.Println(admin.Name())
	// Output: /admin
}

// Broadcast operators chain like the reference's: rooms, exclusions, flags.
func ExampleBroadcastOperator() {
	io := sockio.NewServer(sockio.Options{})
	io.OnConnection(func(s *sockio.Socket) {
		s.On("shout", func(msg string) {
			// Everyone in "room1" or "room2" but the sender and "muted".
			_ = s.To("room1", "room2").Except("muted").Emit("shout", msg)
			// Every socket, and accept losing it if a client is busy.
			_ = io.Volatile().Emit("tick", time.Now().Unix())
			// Ask every socket in "lobby" and wait at most a second.
			_ = io.To("lobby").Timeout(time.Second).Emit("poll", func(err error, answers []sockio.Args) {
				fmt.Println(len(answers), err)
			})
		})
	})
	fmt.Println("ok")
	// Output: ok
}

// Serving with Serve instead of hs.Serve: the same handler, with WebSocket
// upgrades accepted without net/http's per-connection state.
func ExampleServe() {
	io := sockio.NewServer(sockio.Options{})
	io.OnConnection(func(s *sockio.Socket) {
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- sockio.Serve(ln, hs) }()

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, open, _ := ws.ReadMessage()
	fmt.Println(string(open[:8]))
	ws.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = io.Close(ctx)
	_ = hs.Shutdown(ctx)
	fmt.Println(<-served)
	// Output:
	// 0{"sid":
	// http: Server closed
}
