package packet

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// The vectors below are what the reference's parser-v3
// (engine.io/build/parser-v3, engine.io 6.6) produces and accepts: they
// were printed by running it on the same packets.

var payloadV3Cases = []struct {
	name string
	pkts []Packet
	text string // encodePayload(pkts, supportsBinary=false)
	bin  string // encodePayload(pkts, supportsBinary=true), hex; "" when it is the text form
}{
	{
		name: "message with a character outside the BMP, then pong",
		pkts: []Packet{text(Message, `42["a","hé😀"]`), text(Pong, "")},
		text: `15:442["a","hé😀"]1:3`,
	},
	{
		name: "open",
		pkts: []Packet{text(Open, `{"sid":"x"}`)},
		text: `12:0{"sid":"x"}`,
	},
	{
		name: "binary attachment then event",
		pkts: []Packet{bin(1, 2, 3), text(Message, `451-["b",{"_placeholder":true,"num":0}]`)},
		text: `6:b4AQID40:4451-["b",{"_placeholder":true,"num":0}]`,
		bin:  "0104ff04010203000400ff343435312d5b2262222c7b225f706c616365686f6c646572223a747275652c226e756d223a307d5d",
	},
	{
		name: "binary then a text event with UTF-8",
		pkts: []Packet{bin(1, 2, 3), text(Message, `451-["b",{"_placeholder":true,"num":0},"é😀"]`)},
		text: `6:b4AQID46:4451-["b",{"_placeholder":true,"num":0},"é😀"]`,
		bin:  "0104ff04010203000409ff343435312d5b2262222c7b225f706c616365686f6c646572223a747275652c226e756d223a307d2c22c3a9f09f9880225d",
	},
	{name: "noop and close", pkts: []Packet{text(Noop, ""), text(Close, "")}, text: "1:61:1"},
	{name: "no packets", pkts: nil, text: "0:"},
	{name: "empty binary", pkts: []Packet{bin()}, text: "2:b4", bin: "0101ff04"},
	{name: "12 bytes", pkts: []Packet{text(Message, "xxxxxxxxxxxx")}, text: "13:4xxxxxxxxxxxx"},
}

func TestAppendPayloadV3(t *testing.T) {
	for _, tc := range payloadV3Cases {
		if got := AppendPayloadV3(nil, tc.pkts); string(got) != tc.text {
			t.Errorf("%s: text payload %q, want %q", tc.name, got, tc.text)
		}
		if tc.bin == "" {
			continue
		}
		if !HasBinary(tc.pkts) {
			t.Errorf("%s: HasBinary false", tc.name)
		}
		if got := hex.EncodeToString(AppendBinaryPayloadV3(nil, tc.pkts)); got != tc.bin {
			t.Errorf("%s: binary payload\n got %s\nwant %s", tc.name, got, tc.bin)
		}
	}
}

func TestDecodePayloadsV3RoundTrip(t *testing.T) {
	for _, tc := range payloadV3Cases {
		var got []Packet
		collect := func(p Packet) error { got = append(got, p); return nil }
		if tc.text == "0:" {
			continue // no packets: nothing a client would POST
		}
		if err := DecodePayloadV3([]byte(tc.text), collect); err != nil {
			t.Fatalf("%s: DecodePayloadV3(%q): %v", tc.name, tc.text, err)
		}
		assertPackets(t, tc.name+" (text)", got, tc.pkts)
		if tc.bin == "" {
			continue
		}
		got = nil
		b, _ := hex.DecodeString(tc.bin)
		if err := DecodeBinaryPayloadV3(b, collect); err != nil {
			t.Fatalf("%s: DecodeBinaryPayloadV3: %v", tc.name, err)
		}
		assertPackets(t, tc.name+" (binary)", got, tc.pkts)
	}
}

func assertPackets(t *testing.T, name string, got, want []Packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets %+v, want %d", name, len(got), got, len(want))
	}
	for i := range got {
		if !equal(got[i], want[i]) {
			t.Errorf("%s: packet %d = %+v, want %+v", name, i, got[i], want[i])
		}
	}
}

// The reference's decodePayload on these inputs.
var decodeV3Cases = []struct {
	in   string
	want []Packet // nil: a parse error (after the packets listed in ok)
	ok   []Packet // with want nil: what came before the error
}{
	{in: "1:2", want: []Packet{text(Ping, "")}},
	{in: "0:1:2", want: []Packet{text(Ping, "")}}, // an empty record is skipped
	{in: "3:4ab2:b4", want: []Packet{text(Message, "ab"), bin()}},
	{in: "6:b4AQID", want: []Packet{bin(1, 2, 3)}},
	{in: "2:4é", want: []Packet{text(Message, "é")}},
	{in: "4:4😀x", want: []Packet{text(Message, "😀x")}},
	{in: "3:4😀", want: []Packet{text(Message, "😀")}},
	{in: "01:2", want: []Packet{text(Ping, "")}},
	{in: "1:"},
	{in: ":"},
	{in: "1x:2"},
	{in: ""},
	{in: "1:7"},
	{in: "5:42[]"},
	{in: "1:21", ok: []Packet{text(Ping, "")}},
	{in: "2:4😀"}, // ends inside a surrogate pair
}

func TestDecodePayloadV3(t *testing.T) {
	for _, tc := range decodeV3Cases {
		var got []Packet
		err := DecodePayloadV3([]byte(tc.in), func(p Packet) error { got = append(got, p); return nil })
		if tc.want == nil {
			if err == nil {
				t.Errorf("DecodePayloadV3(%q) = %+v, want an error", tc.in, got)
			}
			assertPackets(t, tc.in, got, tc.ok)
			continue
		}
		if err != nil {
			t.Errorf("DecodePayloadV3(%q): %v", tc.in, err)
			continue
		}
		assertPackets(t, tc.in, got, tc.want)
	}
}

func TestDecodePayloadV3RepairsUTF8(t *testing.T) {
	// Node reads the body as UTF-8: the bad byte is one U+FFFD, one unit.
	var got []Packet
	if err := DecodePayloadV3([]byte("3:4a\xff"), func(p Packet) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	assertPackets(t, "repaired", got, []Packet{text(Message, "a\uFFFD")})
}

// The reference's decodePayloadAsBinary on these inputs.
func TestDecodeBinaryPayloadV3(t *testing.T) {
	cases := []struct {
		in   []byte
		want []Packet
		err  bool
	}{
		{in: []byte{0, 1, 255, '2'}, want: []Packet{text(Ping, "")}},
		{in: []byte{1, 4, 255, 4, 1, 2, 3}, want: []Packet{bin(1, 2, 3)}},
		{in: []byte{0, 3, 255, '4', 0xc3, 0xa9}, want: []Packet{text(Message, "é")}},
		{in: []byte{0, 2, 255, '4', 0xff}, err: true},            // not UTF-8
		{in: []byte{1, 0, 255}, want: nil},                       // empty: ignored
		{in: []byte{1, 2, 255, 9, 1}, want: nil},                 // unknown type: ignored
		{in: []byte{1, 1, 255, 4}, want: []Packet{bin()}},        // empty binary message
		{in: []byte{0, 5, 255, '4'}, err: true},                  // runs past the body
		{in: []byte{0, 255, '4'}, err: true},                     // no length
		{in: []byte{0, 1, 12, 255, '4'}, err: true},              // not a digit
		{in: []byte{0, 2, 255, 'b', '4'}, want: []Packet{bin()}}, // base64 text record
		{in: nil, err: true},
	}
	for _, tc := range cases {
		var got []Packet
		err := DecodeBinaryPayloadV3(tc.in, func(p Packet) error { got = append(got, p); return nil })
		if tc.err != (err != nil) {
			t.Errorf("DecodeBinaryPayloadV3(%v): error %v", tc.in, err)
			continue
		}
		if !tc.err {
			assertPackets(t, hex.EncodeToString(tc.in), got, tc.want)
		}
	}
}

func TestTextV3(t *testing.T) {
	if got := string(AppendTextV3(nil, bin(1, 2, 3))); got != "b4AQID" {
		t.Errorf("binary text form %q", got)
	}
	if got := string(AppendTextV3(nil, text(Message, "a\xffb"))); got != "4a\uFFFDb" {
		t.Errorf("repaired text form %q", got)
	}
	p, err := DecodeTextV3([]byte("b4AQID"))
	if err != nil || !equal(p, bin(1, 2, 3)) {
		t.Errorf("DecodeTextV3(b4AQID) = %+v, %v", p, err)
	}
	for _, in := range []string{"", "b", "b9AA==", "b4!!", "9"} {
		if _, err := DecodeTextV3([]byte(in)); err == nil {
			t.Errorf("DecodeTextV3(%q): no error", in)
		} else if !isSentinelV3(err) {
			t.Errorf("DecodeTextV3(%q): %v wraps no sentinel", in, err)
		}
	}
}

func TestBinaryFrameV3(t *testing.T) {
	if got := AppendBinaryV3(nil, bin(1, 2)); !bytes.Equal(got, []byte{4, 1, 2}) {
		t.Errorf("frame %v", got)
	}
	if p, ok := DecodeBinaryV3([]byte{4, 1, 2}); !ok || !equal(p, bin(1, 2)) {
		t.Errorf("DecodeBinaryV3 = %+v, %v", p, ok)
	}
	for _, in := range [][]byte{nil, {7}, {200, 1}} {
		if _, ok := DecodeBinaryV3(in); ok {
			t.Errorf("DecodeBinaryV3(%v) ok", in)
		}
	}
}

func TestDecodePayloadV3StopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := DecodePayloadV3([]byte("1:21:21:2"), func(Packet) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d packets", err, n)
	}
}

func isSentinelV3(err error) bool {
	return isSentinel(err) || errors.Is(err, ErrBadLength) || errors.Is(err, ErrNotUTF8)
}
