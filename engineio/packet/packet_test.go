package packet

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// openJSON is the handshake example from the Engine.IO v4 spec.
const openJSON = `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`

func text(t Type, data string) Packet { return Packet{Type: t, Data: []byte(data)} }
func bin(data ...byte) Packet         { return Packet{Type: Message, Data: data, Binary: true} }

func equal(a, b Packet) bool {
	return a.Type == b.Type && a.Binary == b.Binary && bytes.Equal(a.Data, b.Data)
}

func TestTypeString(t *testing.T) {
	want := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
		if !Type(i).Valid() {
			t.Errorf("Type(%d).Valid() = false", i)
		}
	}
	if got := Type(7).String(); got != "Type(7)" {
		t.Errorf("Type(7).String() = %q", got)
	}
	if Type(7).Valid() || Type(255).Valid() {
		t.Error("out-of-range type reported valid")
	}
}

// Text-form cases from the spec and the reference parser; each must encode
// to wire and decode back.
var textCases = []struct {
	name string
	wire string
	p    Packet
}{
	{"open handshake", "0" + openJSON, text(Open, openJSON)},
	{"close", "1", text(Close, "")},
	{"ping", "2", text(Ping, "")},
	{"ping probe", "2probe", text(Ping, "probe")},
	{"pong probe", "3probe", text(Pong, "probe")},
	{"message", "4hello", text(Message, "hello")},
	{"message HelloWorld", "4HelloWorld", text(Message, "HelloWorld")},
	{"message utf8", "4€€€", text(Message, "€€€")},
	{"empty message", "4", text(Message, "")},
	{"upgrade", "5", text(Upgrade, "")},
	{"noop", "6", text(Noop, "")},
	{"binary 1234", "bAQIDBA==", bin(1, 2, 3, 4)},
	{"binary 123", "bAQID", bin(1, 2, 3)},
	{"binary one byte", "bAA==", bin(0)},
	{"binary empty", "b", bin()},
	{"text not utf8", "4\xff\xfe", text(Message, "\xff\xfe")},
}

func TestAppendText(t *testing.T) {
	for _, tc := range textCases {
		if got := AppendText(nil, tc.p); string(got) != tc.wire {
			t.Errorf("%s: AppendText = %q, want %q", tc.name, got, tc.wire)
		}
		// Appends after existing content.
		if got := AppendText([]byte("x"), tc.p); string(got) != "x"+tc.wire {
			t.Errorf("%s: AppendText(x) = %q", tc.name, got)
		}
	}
}

func TestDecodeText(t *testing.T) {
	for _, tc := range textCases {
		p, err := DecodeText([]byte(tc.wire))
		if err != nil {
			t.Errorf("%s: DecodeText(%q): %v", tc.name, tc.wire, err)
			continue
		}
		if !equal(p, tc.p) {
			t.Errorf("%s: DecodeText(%q) = %+v, want %+v", tc.name, tc.wire, p, tc.p)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: decoded packet invalid: %v", tc.name, err)
		}
	}
}

func TestDecodeTextLenient(t *testing.T) {
	for _, tc := range []struct {
		wire string
		want Packet
	}{
		{"bAQ", bin(1)},              // unpadded
		{"bAQIDBA", bin(1, 2, 3, 4)}, // 7 chars: needs the larger buffer
		{"bAQIDBAU", bin(1, 2, 3, 4, 5)},
		{"bAQID\r\nBA==", bin(1, 2, 3, 4)}, // encoding/base64 skips CR/LF
	} {
		p, err := DecodeText([]byte(tc.wire))
		if err != nil || !equal(p, tc.want) {
			t.Errorf("DecodeText(%q) = %+v, %v; want %+v", tc.wire, p, err, tc.want)
		}
	}
}

func TestDecodeTextErrors(t *testing.T) {
	for _, tc := range []struct {
		wire string
		want error
	}{
		{"", ErrEmpty},
		{"7", ErrUnknownType},
		{"9hello", ErrUnknownType},
		{"/", ErrUnknownType}, // '0'-1
		{"x", ErrUnknownType},
		{"B", ErrUnknownType},
		{"\x1e", ErrUnknownType},
		{"\x00", ErrUnknownType},
		{"\xff", ErrUnknownType},
		{" 4hello", ErrUnknownType},
		{"b!!!!", ErrBadBase64},
		{"bA", ErrBadBase64},         // one char cannot encode a byte
		{"bAQ=", ErrBadBase64},       // wrong padding
		{"bAQ==AQ==", ErrBadBase64},  // padding in the middle
		{"bAQIDBA===", ErrBadBase64}, // too much padding
		{"bAQ-_", ErrBadBase64},      // URL alphabet
		{"b\x1e", ErrBadBase64},
	} {
		p, err := DecodeText([]byte(tc.wire))
		if !errors.Is(err, tc.want) {
			t.Errorf("DecodeText(%q) error = %v, want %v", tc.wire, err, tc.want)
		}
		if !equal(p, Packet{}) {
			t.Errorf("DecodeText(%q) returned %+v with error", tc.wire, p)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	_, err := DecodeText([]byte("9"))
	if got, want := err.Error(), "packet: unknown packet type '9'"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	err = DecodePayload([]byte("4a\x1e\x1e4b"), 0, func(Packet) error { return nil })
	if got, want := err.Error(), "payload record 1: packet: empty packet"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDecodeTextAliases(t *testing.T) {
	in := []byte("4hello\x1e4world")
	p, err := DecodeText(in[:6])
	if err != nil {
		t.Fatal(err)
	}
	if &p.Data[0] != &in[1] {
		t.Error("Data does not alias the input")
	}
	if cap(p.Data) != len(p.Data) {
		t.Errorf("cap(Data) = %d, want %d", cap(p.Data), len(p.Data))
	}
	_ = append(p.Data, '!')
	if string(in) != "4hello\x1e4world" {
		t.Errorf("append to Data clobbered the input: %q", in)
	}
}

func TestDecodeBinary(t *testing.T) {
	frame := []byte{1, 2, 3, 4}
	p := DecodeBinary(frame)
	if !equal(p, bin(1, 2, 3, 4)) || &p.Data[0] != &frame[0] {
		t.Errorf("DecodeBinary = %+v", p)
	}
	// A binary frame starting with a digit is still raw data, not a type.
	if p := DecodeBinary([]byte("4hi")); !equal(p, bin('4', 'h', 'i')) {
		t.Errorf("DecodeBinary(4hi) = %+v", p)
	}
	if p := DecodeBinary(nil); p.Type != Message || !p.Binary || len(p.Data) != 0 {
		t.Errorf("DecodeBinary(nil) = %+v", p)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		p    Packet
		want error
	}{
		{text(Open, "{}"), nil},
		{text(Message, "x"), nil},
		{bin(1), nil},
		{Packet{Type: 7}, ErrUnknownType},
		{Packet{Type: 255, Binary: true}, ErrUnknownType},
		{Packet{Type: Ping, Binary: true}, ErrBinaryNotMessage},
	} {
		if err := tc.p.Validate(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Validate(%+v) = %v, want %v", tc.p, err, tc.want)
		}
	}
}

func TestAppendTextInvalid(t *testing.T) {
	// Binary is meaningful only for messages: other types keep their digit.
	if got := AppendText(nil, Packet{Type: Pong, Data: []byte("probe"), Binary: true}); string(got) != "3probe" {
		t.Errorf("got %q", got)
	}
	// An unknown type never round-trips (Validate exists to catch it first).
	for _, typ := range []Type{7, 9, 10, 'b' - '0', 200, 208, 255} {
		for _, data := range []string{"x", "AQ=="} {
			p := Packet{Type: typ, Data: []byte(data)}
			enc := AppendText(nil, p)
			if got, err := DecodeText(enc); err == nil && equal(got, p) {
				t.Errorf("Type(%d) round-tripped through %q", typ, enc)
			}
		}
	}
}

// Payload cases from the spec and the reference parser changelog.
var payloadCases = []struct {
	name string
	wire string
	pkts []Packet
}{
	{"single", "4hello", []Packet{text(Message, "hello")}},
	{"spec text", "4hello\x1e2\x1e4world", []Packet{text(Message, "hello"), text(Ping, ""), text(Message, "world")}},
	{"spec binary", "4hello\x1ebAQIDBA==", []Packet{text(Message, "hello"), bin(1, 2, 3, 4)}},
	{"utf8", "4hello\x1e4€", []Packet{text(Message, "hello"), text(Message, "€")}},
	{"changelog strings", "4hello\x1e4€€€", []Packet{text(Message, "hello"), text(Message, "€€€")}},
	{"changelog binary", "4hello\x1ebAQID", []Packet{text(Message, "hello"), bin(1, 2, 3)}},
	{"control", "2probe\x1e4hello\x1e1", []Packet{text(Ping, "probe"), text(Message, "hello"), text(Close, "")}},
	{"open", "0" + openJSON + "\x1e4x", []Packet{text(Open, openJSON), text(Message, "x")}},
	{"all types", "0\x1e1\x1e2\x1e3\x1e4\x1e5\x1e6\x1eb",
		[]Packet{text(Open, ""), text(Close, ""), text(Ping, ""), text(Pong, ""), text(Message, ""), text(Upgrade, ""), text(Noop, ""), bin()}},
}

func TestAppendPayload(t *testing.T) {
	for _, tc := range payloadCases {
		if got := AppendPayload(nil, tc.pkts); string(got) != tc.wire {
			t.Errorf("%s: AppendPayload = %q, want %q", tc.name, got, tc.wire)
		}
		if got := AppendPayload([]byte("x"), tc.pkts); string(got) != "x"+tc.wire {
			t.Errorf("%s: AppendPayload(x) = %q", tc.name, got)
		}
	}
	if got := AppendPayload([]byte("x"), nil); string(got) != "x" {
		t.Errorf("AppendPayload(nil pkts) = %q", got)
	}
}

func collect(body string, maxPackets int) ([]Packet, error) {
	var pkts []Packet
	err := DecodePayload([]byte(body), maxPackets, func(p Packet) error {
		pkts = append(pkts, p)
		return nil
	})
	return pkts, err
}

func TestDecodePayload(t *testing.T) {
	for _, tc := range payloadCases {
		for _, limit := range []int{0, -1, len(tc.pkts)} {
			got, err := collect(tc.wire, limit)
			if err != nil {
				t.Errorf("%s (max %d): %v", tc.name, limit, err)
				continue
			}
			if len(got) != len(tc.pkts) {
				t.Errorf("%s: got %d packets, want %d", tc.name, len(got), len(tc.pkts))
				continue
			}
			for i := range got {
				if !equal(got[i], tc.pkts[i]) {
					t.Errorf("%s: packet %d = %+v, want %+v", tc.name, i, got[i], tc.pkts[i])
				}
			}
		}
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	for _, tc := range []struct {
		body      string
		max       int
		want      error
		index     string // "" when the error carries no record index
		delivered int    // packets passed to fn before the error
	}{
		{"", 0, ErrEmpty, "", 0},
		{"", 5, ErrEmpty, "", 0},
		{"\x1e", 0, ErrEmpty, "record 0", 0},
		{"4a\x1e", 0, ErrEmpty, "record 1", 1},
		{"\x1e4a", 0, ErrEmpty, "record 0", 0},
		{"4a\x1e\x1e4b", 0, ErrEmpty, "record 1", 1},
		{"4a\x1e9b", 0, ErrUnknownType, "record 1", 1},
		{"4a\x1e4b\x1eb!!", 0, ErrBadBase64, "record 2", 2},
		{"4a\x1e4b\x1e4c", 2, ErrTooManyPackets, "record 2", 0},
		{"4a\x1e4b\x1e4c", 1, ErrTooManyPackets, "record 1", 0},
		{"\x1e\x1e", 2, ErrTooManyPackets, "record 2", 0},
	} {
		got, err := collect(tc.body, tc.max)
		if !errors.Is(err, tc.want) {
			t.Errorf("DecodePayload(%q, %d) error = %v, want %v", tc.body, tc.max, err, tc.want)
			continue
		}
		if tc.index != "" && !strings.Contains(err.Error(), tc.index) {
			t.Errorf("DecodePayload(%q) error %q lacks %q", tc.body, err, tc.index)
		}
		if len(got) != tc.delivered {
			t.Errorf("DecodePayload(%q) delivered %d packets, want %d", tc.body, len(got), tc.delivered)
		}
	}
}

func TestDecodePayloadCallbackError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := DecodePayload([]byte("4a\x1e1\x1e4b"), 0, func(p Packet) error {
		calls++
		if p.Type == Close {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "record 1") {
		t.Errorf("error = %v, want stop at record 1", err)
	}
	if calls != 2 {
		t.Errorf("fn called %d times, want 2", calls)
	}
}

func TestDecodePayloadAliases(t *testing.T) {
	body := []byte("4hello\x1e4world")
	err := DecodePayload(body, 0, func(p Packet) error {
		_ = append(p.Data, "!!!"...) // must not overwrite the next record
		return nil
	})
	if err != nil || string(body) != "4hello\x1e4world" {
		t.Errorf("body = %q, err = %v", body, err)
	}
}

func TestRoundTrip(t *testing.T) {
	var pkts []Packet
	for typ := Open; typ <= Noop; typ++ {
		for _, d := range []string{"", "x", "hello world", "€", "\x00\xff", strings.Repeat("a", 1000)} {
			pkts = append(pkts, text(typ, d))
		}
	}
	for n := range 10 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		pkts = append(pkts, bin(b...))
	}
	for _, p := range pkts {
		got, err := DecodeText(AppendText(nil, p))
		if err != nil || !equal(got, p) {
			t.Errorf("round trip %+v: got %+v, %v", p, got, err)
		}
	}
	wire := AppendPayload(nil, pkts)
	got, err := collect(string(wire), len(pkts))
	if err != nil || len(got) != len(pkts) {
		t.Fatalf("payload round trip: %d packets, %v", len(got), err)
	}
	for i := range pkts {
		want := pkts[i]
		if !want.Binary {
			// Polling text is UTF-8: "\xff" comes back as U+FFFD.
			want.Data = []byte(whatwgDecode(want.Data))
		}
		if !equal(got[i], want) {
			t.Errorf("payload packet %d: got %+v, want %+v", i, got[i], want)
		}
	}
}

func TestAllocs(t *testing.T) {
	in := []byte("4hello world")
	textPkts := []Packet{text(Message, "hello"), text(Ping, "probe"), bin(1, 2, 3, 4)}
	dst := make([]byte, 0, 256)
	body := []byte("4hello\x1e2probe\x1e4world")
	var sink Packet
	fn := func(p Packet) error { sink = p; return nil }
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"DecodeText", func() { sink, _ = DecodeText(in) }},
		{"DecodeBinary", func() { sink = DecodeBinary(in) }},
		{"AppendText", func() { dst = AppendText(dst[:0], textPkts[2]) }},
		{"AppendPayload", func() { dst = AppendPayload(dst[:0], textPkts) }},
		{"DecodePayload", func() { _ = DecodePayload(body, 10, fn) }},
	} {
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tc.name, n)
		}
	}
	_ = sink
	// AppendPayload grows a too-small dst exactly once.
	if n := testing.AllocsPerRun(100, func() { dst = AppendPayload(nil, textPkts) }); n != 1 {
		t.Errorf("AppendPayload(nil): %v allocs/op, want 1", n)
	}
	// Base64 decoding allocates only the result.
	b64 := []byte("bAQIDBA==")
	if n := testing.AllocsPerRun(100, func() { sink, _ = DecodeText(b64) }); n != 1 {
		t.Errorf("DecodeText(base64): %v allocs/op, want 1", n)
	}
}

// Types print by name in logs and error messages.
func TestPacketFormat(t *testing.T) {
	if got := fmt.Sprint(Ping); got != "ping" {
		t.Errorf("fmt ping = %q", got)
	}
}
