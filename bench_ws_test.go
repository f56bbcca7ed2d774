package sockio

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkEchoWebSocket runs clients in a closed loop of emit-with-ack
// over real loopback websockets; one op is one acknowledged echo.
func BenchmarkEchoWebSocket(b *testing.B) {
	const clients = 50
	io, hs := newTestServer(b, Options{PingInterval: time.Hour})
	io.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = e.Ack(e.Args) })
	})
	conns := make([]*rawClient, clients)
	for i := range conns {
		conns[i] = dial(b, hs)
		conns[i].connect("/")
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func(c *rawClient) {
			defer wg.Done()
			msg := []byte(`421["echo",{"text":"hello, world","n":12345}]`)
			for left.Add(-1) >= 0 {
				if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
					b.Error(err)
					return
				}
				if _, _, err := c.ws.ReadMessage(); err != nil {
					b.Error(err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
}

// BenchmarkBroadcastWebSocket sends one broadcast to many loopback
// websocket clients and waits until every client has read it.
func BenchmarkBroadcastWebSocket(b *testing.B) {
	const clients = 1000
	io, hs := newTestServer(b, Options{PingInterval: time.Hour})
	conns := make([]*rawClient, clients)
	for i := range conns {
		conns[i] = dial(b, hs)
		conns[i].connect("/")
	}
	var got sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for _, c := range conns {
		go func(c *rawClient) {
			for i := 0; i < b.N; i++ {
				if _, _, err := c.ws.ReadMessage(); err != nil {
					return
				}
				got.Done()
			}
		}(c)
	}
	for i := 0; i < b.N; i++ {
		got.Add(clients)
		_ = io.Emit("tick", strconv.Itoa(i))
		got.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*clients)/b.Elapsed().Seconds(), "deliveries/s")
}
