package parser

import (
	"testing"
)

// The cost of converting at the codec boundary: a msgpack packet becomes
// the usual representation (JSON + attachments) on decoding, and back on
// encoding; the default format's numbers for the same packet alongside.
func benchPacket(b *testing.B) *Packet {
	data, atts, err := EncodeData(nil, []any{"chat message", map[string]any{
		"user": "alice", "text": "hello there, how are you doing today?", "ts": 1712345678901, "tags": []any{"a", "b"},
	}, []byte("0123456789abcdef")})
	if err != nil {
		b.Fatal(err)
	}
	return &Packet{Type: BinaryEvent, Namespace: "/", Data: data, Attachments: atts}
}

func BenchmarkCodecDecode(b *testing.B) {
	p := benchPacket(b)
	for _, c := range []struct {
		name  string
		codec Codec
	}{{"default", Default}, {"msgpack", Msgpack}} {
		msgs, err := c.codec.Encode(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			d := c.codec.NewDecoder(0)
			for b.Loop() {
				for _, m := range msgs {
					if _, err := d.Add(m.Data, m.Binary); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkCodecEncode(b *testing.B) {
	p := benchPacket(b)
	for _, c := range []struct {
		name  string
		codec Codec
	}{{"default", Default}, {"msgpack", Msgpack}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.codec.Encode(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
