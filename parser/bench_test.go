package parser

import "testing"

var benchEvent = []byte(`2/chat,42["message",{"user":"alice","text":"hello, world","ts":1700000000000},"room-1",7]`)

func BenchmarkDecodeEvent(b *testing.B) {
	var d Decoder
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Add(benchEvent, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendText(b *testing.B) {
	p := &Packet{Type: Event, Namespace: "/chat", ID: 42, HasID: true, Data: benchEvent[9:]}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendText(buf[:0], p)
	}
}

func BenchmarkEncodeData(b *testing.B) {
	args := []any{"message", "hello, world", 1700000000000, true, 3.25, []byte{1, 2, 3}, []any{"x", 1}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, _, err = EncodeData(buf[:0], args)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitArray(b *testing.B) {
	data := benchEvent[9:]
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SplitArray(data); err != nil {
			b.Fatal(err)
		}
	}
}
