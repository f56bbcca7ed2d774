package packet

import (
	"bytes"
	"testing"

	"github.com/sockio/sockio/internal/utf8text"
)

// FuzzDecodePayloadV3 feeds the protocol 3 POST decoders (text payload, or
// the binary one when binary is set): they must not panic, not change their
// input, fail only with a sentinel, and what they decode must encode into a
// payload that decodes to the same packets.
func FuzzDecodePayloadV3(f *testing.F) {
	for _, tc := range payloadV3Cases {
		f.Add([]byte(tc.text), false)
		if tc.bin != "" {
			f.Add(AppendBinaryPayloadV3(nil, tc.pkts), true)
		}
	}
	for _, tc := range decodeV3Cases {
		f.Add([]byte(tc.in), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, binary bool) {
		orig := bytes.Clone(body)
		decode, encode := DecodePayloadV3, AppendPayloadV3
		if binary {
			decode, encode = DecodeBinaryPayloadV3, AppendBinaryPayloadV3
		}
		var pkts []Packet
		err := decode(body, func(p Packet) error {
			if err := p.Validate(); err != nil {
				t.Fatalf("decoded an invalid packet %+v: %v", p, err)
			}
			// Copied: a repaired body is a new buffer, but must not be
			// relied on past the call.
			p.Data = bytes.Clone(p.Data)
			pkts = append(pkts, p)
			return nil
		})
		if !bytes.Equal(body, orig) {
			t.Fatalf("the decoder modified its input: %q -> %q", orig, body)
		}
		if err != nil && !isSentinelV3(err) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if err != nil || len(pkts) == 0 {
			return
		}
		enc := encode(nil, pkts)
		var again []Packet
		if err := decode(enc, func(p Packet) error { again = append(again, p); return nil }); err != nil {
			t.Fatalf("re-encoded %+v as %q, which does not decode: %v", pkts, enc, err)
		}
		if len(again) != len(pkts) {
			t.Fatalf("round trip %q -> %q: %d packets, want %d", body, enc, len(again), len(pkts))
		}
		for i := range pkts {
			want := pkts[i]
			if !want.Binary {
				// Text data goes out as a peer reads it: repaired.
				want.Data = utf8text.Repair(want.Data)
			}
			if !equal(again[i], want) {
				t.Fatalf("round trip %q -> %q: packet %d = %+v, want %+v", body, enc, i, again[i], want)
			}
		}
	})
}
