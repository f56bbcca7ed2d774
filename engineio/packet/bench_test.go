package packet

import "testing"

var (
	benchText    = []byte(`442["chat message",{"user":"alice","text":"hello world"}]`)
	benchBase64  = []byte("b" + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==")
	benchPayload = []Packet{
		{Type: Message, Data: []byte(`42["chat message","hello"]`)},
		{Type: Pong},
		{Type: Message, Data: []byte(`42["chat message",{"user":"alice","text":"hello world"}]`)},
		{Type: Message, Data: make([]byte, 64), Binary: true},
		{Type: Message, Data: []byte(`43["ack",1,2,3]`)},
	}
	sinkPacket Packet
)

func BenchmarkDecodeText(b *testing.B) {
	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchText)))
		for b.Loop() {
			sinkPacket, _ = DecodeText(benchText)
		}
	})
	b.Run("base64", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchBase64)))
		for b.Loop() {
			sinkPacket, _ = DecodeText(benchBase64)
		}
	})
}

func BenchmarkAppendPayload(b *testing.B) {
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		dst = AppendPayload(dst[:0], benchPayload)
	}
	b.SetBytes(int64(len(dst)))
}

func BenchmarkDecodePayload(b *testing.B) {
	body := AppendPayload(nil, benchPayload)
	textOnly := AppendPayload(nil, []Packet{benchPayload[0], benchPayload[1], benchPayload[2], benchPayload[4]})
	fn := func(p Packet) error { sinkPacket = p; return nil }
	for _, bc := range []struct {
		name string
		body []byte
	}{{"text", textOnly}, {"mixed", body}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				if err := DecodePayload(bc.body, 16, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
