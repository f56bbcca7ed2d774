package ws

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkEcho is one round trip of a message through the echo server,
// from a raw client on loopback.
func BenchmarkEcho(b *testing.B) {
	for _, size := range []int{64, 16 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			addr := startEcho(b, ConnOptions{})
			p := dialRaw(b, addr)
			frame := encodeFrame(0x80|opText, []byte(strings.Repeat("a", size)), true)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				p.write(frame)
				if _, err := p.readFrame(10e9); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBroadcast queues one 128-byte message to 100 connections, with
// the frame encoded once, and waits for every client to receive it.
func BenchmarkBroadcast(b *testing.B) {
	srv := &Server{ConnOptions: ConnOptions{PingInterval: -1}}
	u := startServer(b, srv)
	const n = 100
	var wg sync.WaitGroup
	clients := make([]*Conn, n)
	for i := range clients {
		c, err := Dial(context.Background(), u, &DialOptions{
			Handlers:    Handlers{OnText: func(*Conn, []byte) { wg.Done() }},
			ConnOptions: ConnOptions{PingInterval: -1},
		})
		if err != nil {
			b.Fatal(err)
		}
		clients[i] = c
	}
	for deadline := time.Now().Add(10 * time.Second); len(srv.Connections()) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("clients did not all connect")
		}
	}
	msg := []byte(strings.Repeat("m", 128))
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(n)
		if srv.BroadcastText(msg) != n {
			b.Fatal("broadcast missed connections")
		}
		wg.Wait()
	}
	b.StopTimer()
	for _, c := range clients {
		_ = c.Close(CloseNormal, "")
		<-c.Done()
	}
}
