package sockio_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
	"github.com/sockio/sockio/parser"
)

// countingCodec is parser.Msgpack counting the events it encodes.
type countingCodec struct{ events atomic.Int64 }

func (c *countingCodec) Encode(p *parser.Packet) ([]parser.Message, error) {
	if p.Type == parser.Event || p.Type == parser.BinaryEvent {
		c.events.Add(1)
	}
	return parser.Msgpack.Encode(p)
}

func (c *countingCodec) NewDecoder(max int) parser.PacketDecoder {
	return parser.Msgpack.NewDecoder(max)
}

// With Options.Parser, a broadcast (with or without acks) is still encoded
// once for all its recipients, in the server's format.
func TestParserBroadcastEncodedOnce(t *testing.T) {
	codec := &countingCodec{}
	io := sockio.NewServer(sockio.Options{Parser: codec})
	io.OnConnection(func(s *sockio.Socket) {
		s.Join("room")
		s.On("joined", func(ack sockio.Ack) { ack() })
	})
	srv := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Close(ctx)
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	const n = 3
	got := make(chan []byte, 2*n)
	for range n {
		s, err := client.Connect(ctx, srv.URL, client.Options{Transports: []string{"websocket"}, Parser: parser.Msgpack})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.On("news", func(text string, b []byte, ack client.Ack) {
			got <- b
			if ack != nil {
				ack(text)
			}
		})
		if _, err := s.EmitWithAck(ctx, "joined"); err != nil {
			t.Fatal(err)
		}
	}

	before := codec.events.Load()
	if err := io.To("room").Emit("news", "hi", []byte{1}); err != nil {
		t.Fatal(err)
	}
	for range n {
		select {
		case b := <-got:
			if len(b) != 1 || b[0] != 1 {
				t.Errorf("got %v", b)
			}
		case <-ctx.Done():
			t.Fatal("broadcast missing")
		}
	}
	if d := codec.events.Load() - before; d != 1 {
		t.Errorf("broadcast encoded %d times, want 1", d)
	}

	before = codec.events.Load()
	res, err := io.To("room").Timeout(5*time.Second).EmitWithAck(ctx, "news", "ack?", []byte{1})
	if err != nil || len(res) != n {
		t.Fatalf("%d answers, %v", len(res), err)
	}
	if d := codec.events.Load() - before; d != 1 {
		t.Errorf("broadcast with acks encoded %d times, want 1", d)
	}
}
