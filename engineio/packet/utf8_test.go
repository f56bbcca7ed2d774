package packet

import (
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sockio/sockio/internal/utf8text"
)

// nodeUTF8 are byte strings and what Node.js 20 decodes them to
// (Buffer.toString("utf8"), the same through a StringDecoder fed one byte at
// a time, as req.setEncoding("utf8") may be): the reference's reading of a
// polling POST body.
var nodeUTF8 = []struct{ hex, want string }{
	{"61ff62", "a\ufffdb"},
	{"e28261", "\ufffda"},                    // a cut 3-byte sequence is one U+FFFD
	{"e282", "\ufffd"},                       // ... also at the end
	{"f09f98", "\ufffd"},                     // a cut 4-byte sequence
	{"eda080", "\ufffd\ufffd\ufffd"},         // a surrogate: ED's second byte is at most 9F
	{"c0af", "\ufffd\ufffd"},                 // an overlong '/'
	{"f4908080", "\ufffd\ufffd\ufffd\ufffd"}, // above U+10FFFF
	{"e08080", "\ufffd\ufffd\ufffd"},         // overlong
	{"f0808080", "\ufffd\ufffd\ufffd\ufffd"}, // overlong
	{"8080", "\ufffd\ufffd"},                 // lone continuation bytes
	{"feff", "\ufffd\ufffd"},
	{"f888808080", "\ufffd\ufffd\ufffd\ufffd\ufffd"}, // the old 5-byte form
	{"c2", "\ufffd"},
	{"c241", "\ufffdA"},
	{"e180e18080", "\ufffd\u1000"},
	{"f18080e180c2", "\ufffd\ufffd\ufffd"},
	{"7b22ff7d", "{\"\ufffd}"},
	// Valid sequences at the edges of the ranges are kept.
	{"f09f9880", "\U0001f600"},
	{"e282ac", "\u20ac"},
	{"efbfbd", "\ufffd"},
	{"f48fbfbf", "\U0010ffff"},
	{"ed9fbf", "\ud7ff"},
	{"e0a080", "\u0800"},
}

// The repair of polling text (internal/utf8text) is checked here, against
// Node.js and against the oracle the fuzz targets use.
func TestRepairMatchesNode(t *testing.T) {
	for _, tc := range nodeUTF8 {
		in, err := hex.DecodeString(tc.hex)
		if err != nil {
			t.Fatal(err)
		}
		if got := utf8text.Repair(in); string(got) != tc.want {
			t.Errorf("Repair(%s) = %+q, Node.js gives %+q", tc.hex, got, tc.want)
		}
		if got := whatwgDecode(in); got != tc.want {
			t.Errorf("whatwgDecode(%s) = %+q, Node.js gives %+q (the test oracle is wrong)", tc.hex, got, tc.want)
		}
	}
}

// TestDecodePayloadInvalidUTF8 is issue #12's polling case: a text packet
// carrying invalid UTF-8 reaches the handler as valid UTF-8, with U+FFFD
// where the reference puts it; other records and base64 ones are as before.
func TestDecodePayloadInvalidUTF8(t *testing.T) {
	body := "4ok\x1e42[\"echo\",\"a\xffb\xe2\x82c\"]\x1ebAQID\x1e2\xed\xa0\x80"
	got, err := collect(body, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Packet{
		text(Message, "ok"),
		text(Message, "2[\"echo\",\"a\ufffdb\ufffdc\"]"),
		bin(1, 2, 3),
		text(Ping, "\ufffd\ufffd\ufffd"),
	}
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !equal(got[i], want[i]) {
			t.Errorf("packet %d = %+q, want %+q", i, got[i].Data, want[i].Data)
		}
		if !got[i].Binary && !utf8.Valid(got[i].Data) {
			t.Errorf("packet %d is not valid UTF-8: %q", i, got[i].Data)
		}
		if cap(got[i].Data) != len(got[i].Data) {
			t.Errorf("packet %d: capacity %d not capped at %d", i, cap(got[i].Data), len(got[i].Data))
		}
	}

	// A base64 record with bytes outside its alphabet still fails.
	if _, err := collect("4a\x1ebAQ\xffID", 0); err == nil || !strings.Contains(err.Error(), "record 1") {
		t.Errorf("bad base64 record: error %v", err)
	}
}

// Valid text is not copied: Data still aliases the body.
func TestDecodePayloadValidUTF8Aliases(t *testing.T) {
	body := []byte("4h€llo\x1e4world")
	var pkts []Packet
	if err := DecodePayload(body, 0, func(p Packet) error { pkts = append(pkts, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if &pkts[0].Data[0] != &body[1] || &pkts[1].Data[0] != &body[len(body)-5] {
		t.Error("valid records were copied")
	}
	if n := testing.AllocsPerRun(100, func() {
		_ = DecodePayload(body, 0, func(Packet) error { return nil })
	}); n != 0 {
		t.Errorf("DecodePayload of valid text allocates %v times", n)
	}
}

// whatwgDecode is the WHATWG Encoding Standard's UTF-8 decoder, written
// from its state machine, as an oracle for utf8text.Repair (which works on
// whole sequences instead).
func whatwgDecode(b []byte) string {
	var (
		out            []rune
		cp, seen, need int
		lo, hi         = 0x80, 0xBF
	)
	for i := 0; i < len(b); {
		c := int(b[i])
		if need == 0 {
			switch {
			case c <= 0x7F:
				out = append(out, rune(c))
			case c >= 0xC2 && c <= 0xDF:
				need, cp = 1, c&0x1F
			case c >= 0xE0 && c <= 0xEF:
				if c == 0xE0 {
					lo = 0xA0
				}
				if c == 0xED {
					hi = 0x9F
				}
				need, cp = 2, c&0xF
			case c >= 0xF0 && c <= 0xF4:
				if c == 0xF0 {
					lo = 0x90
				}
				if c == 0xF4 {
					hi = 0x8F
				}
				need, cp = 3, c&0x7
			default:
				out = append(out, utf8.RuneError)
			}
			i++
			continue
		}
		if c < lo || c > hi {
			// The sequence is cut: one U+FFFD, and c is read again.
			cp, need, seen, lo, hi = 0, 0, 0, 0x80, 0xBF
			out = append(out, utf8.RuneError)
			continue
		}
		lo, hi = 0x80, 0xBF
		cp = cp<<6 | c&0x3F
		seen++
		i++
		if seen == need {
			out = append(out, rune(cp))
			cp, need, seen = 0, 0, 0
		}
	}
	if need != 0 {
		out = append(out, utf8.RuneError)
	}
	return string(out)
}
