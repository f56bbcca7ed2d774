package ws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sockio/sockio/ws"
)

// A chat that speaks its own JSON: every message is sent to everyone.
func Example_chat() {
	srv := &ws.Server{}
	srv.OnText = func(c *ws.Conn, text []byte) {
		var msg struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(text, &msg) != nil {
			_ = c.Close(ws.CloseUnsupportedData, "expected JSON")
			return
		}
		srv.BroadcastText(text) // encoded once for all
	}
	http.Handle("/chat", srv) // a browser connects with new WebSocket("ws://host/chat")
}

// An echo server and a client, on a loopback port.
func Example() {
	srv := &ws.Server{Handlers: ws.Handlers{
		OnText: func(c *ws.Conn, text []byte) { _ = c.SendText(text) },
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	got := make(chan string, 1)
	c, err := ws.Dial(context.Background(), "ws://"+l.Addr().String()+"/echo", &ws.DialOptions{
		Handlers: ws.Handlers{OnText: func(c *ws.Conn, text []byte) { got <- string(text) }},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = c.SendText([]byte("hello"))
	fmt.Println(<-got)
	_ = c.Close(ws.CloseNormal, "bye")
	<-c.Done()
	// Output: hello
}

// Streaming a file in both directions: the server stores uploads as they
// arrive; the client sends one in fragments of FragmentSize.
func ExampleConn_Writer() {
	srv := &ws.Server{Handlers: ws.Handlers{
		OnBinaryStream: func(c *ws.Conn, r io.Reader) {
			n, err := io.Copy(io.Discard, r) // a file, in a real server
			if err != nil {
				return
			}
			_ = c.SendText(fmt.Appendf(nil, "stored %d bytes", n))
		},
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	done := make(chan string, 1)
	c, err := ws.Dial(context.Background(), "ws://"+l.Addr().String(), &ws.DialOptions{
		Handlers: ws.Handlers{OnText: func(c *ws.Conn, text []byte) { done <- string(text) }},
	})
	if err != nil {
		log.Fatal(err)
	}
	w, err := c.Writer(context.Background(), ws.Binary)
	if err != nil {
		log.Fatal(err)
	}
	_, _ = io.Copy(w, io.LimitReader(zeros{}, 3<<20)) // stands in for an *os.File
	_ = w.Close()
	fmt.Println(<-done)
	_ = c.Close(ws.CloseNormal, "")
	<-c.Done()
	// Output: stored 3145728 bytes
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A client that comes back after losing its server.
func ExampleDialReconnecting() {
	rc := ws.DialReconnecting("ws://127.0.0.1:9001/feed", &ws.ReconnectOptions{
		DialOptions: ws.DialOptions{
			Handlers: ws.Handlers{
				OnOpen: func(c *ws.Conn) { _ = c.SendText([]byte(`{"subscribe":"prices"}`)) },
				OnText: func(c *ws.Conn, text []byte) { os.Stdout.Write(text) },
			},
			ConnOptions: ws.ConnOptions{PingInterval: 10 * time.Second, PongTimeout: 5 * time.Second},
		},
		MinDelay:    time.Second,
		MaxDelay:    time.Minute,
		MaxAttempts: 20,
	})
	defer rc.Close(ws.CloseNormal, "")
}

// Limits and safety settings of a public server.
func ExampleServer_limits() {
	srv := &ws.Server{
		ConnOptions: ws.ConnOptions{
			MaxMessageSize:    64 << 10,
			MaxQueuedMessages: 256,
			WriteTimeout:      5 * time.Second,
			PingInterval:      20 * time.Second,
			Compression:       true,
		},
		CheckOrigin:  func(r *http.Request) bool { return r.Header.Get("Origin") == "https://app.example" },
		Subprotocols: []string{"chat.v2", "chat.v1"},
	}
	go srv.ListenAndServe("127.0.0.1:8080")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx) // every peer gets close 1001
}
