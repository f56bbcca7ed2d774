package packet

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

func isSentinel(err error) bool {
	return errors.Is(err, ErrEmpty) || errors.Is(err, ErrUnknownType) ||
		errors.Is(err, ErrBadBase64) || errors.Is(err, ErrTooManyPackets)
}

func FuzzDecodeText(f *testing.F) {
	for _, tc := range textCases {
		f.Add([]byte(tc.wire))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		p, err := DecodeText(in)
		if !bytes.Equal(in, orig) {
			t.Fatalf("DecodeText modified its input: %q -> %q", orig, in)
		}
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("DecodeText(%q): error %v wraps no sentinel", in, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("DecodeText(%q) = invalid %+v: %v", in, p, err)
		}
		enc := AppendText(nil, p)
		// The text form is canonical: it re-encodes byte for byte.
		if !p.Binary && !bytes.Equal(enc, in) {
			t.Fatalf("re-encoded %q as %q", in, enc)
		}
		if !p.Binary && cap(p.Data) != len(p.Data) {
			t.Fatalf("Data capacity %d not capped at %d", cap(p.Data), len(p.Data))
		}
		p2, err := DecodeText(enc)
		if err != nil || !equal(p, p2) {
			t.Fatalf("round trip %q -> %q -> %+v, %v; want %+v", in, enc, p2, err, p)
		}
		// The binary form of a binary message carries the same data.
		if p.Binary {
			if p3 := DecodeBinary(p.Data); !equal(p, p3) {
				t.Fatalf("DecodeBinary(%q) = %+v, want %+v", p.Data, p3, p)
			}
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, tc := range payloadCases {
		f.Add([]byte(tc.wire), 0)
	}
	f.Fuzz(func(t *testing.T, body []byte, maxPackets int) {
		var pkts []Packet
		err := DecodePayload(body, maxPackets, func(p Packet) error {
			pkts = append(pkts, p)
			return nil
		})
		records := bytes.Split(body, []byte{Separator})
		if maxPackets > 0 && len(pkts) > maxPackets {
			t.Fatalf("delivered %d packets, limit %d", len(pkts), maxPackets)
		}
		if errors.Is(err, ErrTooManyPackets) {
			if maxPackets <= 0 || len(records) <= maxPackets || len(pkts) != 0 {
				t.Fatalf("ErrTooManyPackets: %d records, limit %d, %d delivered", len(records), maxPackets, len(pkts))
			}
			return
		}
		// Otherwise it must agree with decoding record by record.
		if len(body) == 0 {
			if !errors.Is(err, ErrEmpty) {
				t.Fatalf("empty body: error %v", err)
			}
			return
		}
		for i, rec := range records {
			p, rerr := DecodeText(rec)
			if rerr == nil && !p.Binary {
				// Polling text is read as UTF-8, as the reference reads it.
				p.Data = []byte(whatwgDecode(p.Data))
			}
			if rerr != nil {
				if err == nil || len(pkts) != i || !errors.Is(err, unwrapSentinel(rerr)) {
					t.Fatalf("record %d (%q) fails with %v; DecodePayload gave %v after %d packets", i, rec, rerr, err, len(pkts))
				}
				return
			}
			if i >= len(pkts) || !equal(p, pkts[i]) {
				t.Fatalf("record %d: DecodeText gave %+v, DecodePayload gave %v", i, p, pkts)
			}
			if !p.Binary && !utf8.Valid(pkts[i].Data) {
				t.Fatalf("record %d: text packet %q is not valid UTF-8", i, pkts[i].Data)
			}
		}
		if err != nil || len(pkts) != len(records) {
			t.Fatalf("all %d records decode, but DecodePayload gave %d packets, %v", len(records), len(pkts), err)
		}
		// Round trip through the encoder.
		enc := AppendPayload(nil, pkts)
		var again []Packet
		if err := DecodePayload(enc, len(pkts), func(p Packet) error {
			again = append(again, p)
			return nil
		}); err != nil || len(again) != len(pkts) {
			t.Fatalf("re-decode of %q: %d packets, %v", enc, len(again), err)
		}
		for i := range pkts {
			if !equal(pkts[i], again[i]) {
				t.Fatalf("packet %d: %+v then %+v", i, pkts[i], again[i])
			}
		}
	})
}

// unwrapSentinel maps a DecodeText error to the sentinel it wraps.
func unwrapSentinel(err error) error {
	for _, s := range []error{ErrEmpty, ErrUnknownType, ErrBadBase64} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}
