package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

var sentinels = []error{
	ErrEmpty, ErrUnknownType, ErrBadAttachments, ErrTooManyAttachments,
	ErrBadNamespace, ErrBadID, ErrInvalidPayload, ErrReservedEvent,
	ErrUnexpectedBinary, ErrUnexpectedText,
}

// fuzzMessages splits fuzz input into transport messages: records separated
// by 0x1e; a record starting with 'b' is a binary message (the rest of it),
// any other record a text message.
func fuzzMessages(in []byte) (msgs [][]byte, binary []bool) {
	for rec := range bytes.SplitSeq(in, []byte{0x1e}) {
		if len(rec) > 0 && rec[0] == 'b' {
			msgs, binary = append(msgs, rec[1:]), append(binary, true)
		} else {
			msgs, binary = append(msgs, rec), append(binary, false)
		}
	}
	return msgs, binary
}

// FuzzDecoder feeds a message sequence to one decoder and checks that it
// never panics, fails only with a sentinel error (and then resets), and that
// every packet it yields re-encodes to a text that decodes to an equal
// packet.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("0\x1e2[\"a\"]"))
	f.Fuzz(func(t *testing.T, in []byte) {
		msgs, binary := fuzzMessages(in)
		d := Decoder{MaxAttachments: 4}
		for i, msg := range msgs {
			p, err := d.Add(msg, binary[i])
			if err != nil {
				if p != nil || d.Awaiting() {
					t.Fatalf("error %v with packet %v / awaiting %v", err, p, d.Awaiting())
				}
				if !isSentinel(err) {
					t.Fatalf("error %v wraps no sentinel", err)
				}
				continue
			}
			if p == nil {
				if !d.Awaiting() {
					t.Fatalf("%q: neither packet nor awaiting", msg)
				}
				continue
			}
			checkPacket(t, p, 4)
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func checkPacket(t *testing.T, p *Packet, max int) {
	t.Helper()
	if !p.Type.Valid() || !strings.HasPrefix(p.Namespace, "/") || strings.Contains(p.Namespace, ",") {
		t.Fatalf("bad packet %+v", p)
	}
	if n := len(p.Attachments); p.Type.IsBinary() != (n > 0) || n > max {
		t.Fatalf("%v with %d attachments", p.Type, n)
	}
	if p.Data == nil && (p.Type == Event || p.Type == Ack) {
		return // a bare EVENT or ACK, accepted as the reference does
	}
	switch p.Type {
	case Event, BinaryEvent:
		name, err := EventName(p.Data)
		if err != nil || IsReserved(name) {
			t.Fatalf("event name of %s: %q %v", p.Data, name, err)
		}
		fallthrough
	case Ack, BinaryAck:
		args, err := SplitArray(p.Data)
		if err != nil {
			t.Fatalf("SplitArray(%s): %v", p.Data, err)
		}
		if p.Type.IsBinary() {
			for _, a := range args {
				if _, err := Reconstruct(a, p.Attachments); err != nil {
					t.Fatalf("Reconstruct(%s): %v", a, err)
				}
			}
		}
	}

	text := AppendText(nil, p)
	var d Decoder
	q, err := d.Add(text, false)
	for i := 0; err == nil && q == nil && i < len(p.Attachments); i++ {
		q, err = d.Add(p.Attachments[i], true)
	}
	if err != nil || q == nil {
		t.Fatalf("re-decoding %q: %v %v", text, q, err)
	}
	if !equalPacket(p, q) {
		t.Fatalf("round trip of %q:\n got %+v\nwant %+v", text, *q, *p)
	}
	if again := AppendText(nil, q); !bytes.Equal(again, text) {
		t.Fatalf("re-encoding not stable: %q then %q", text, again)
	}
}

// FuzzReconstruct checks that the decoder's placeholder check agrees with
// Reconstruct, and that EncodeData inverts Reconstruct.
func FuzzReconstruct(f *testing.F) {
	f.Add([]byte(`["a",{"_placeholder":true,"num":0},{"k":[1.50,{"_placeholder":true,"num":1}]}]`), uint8(2))
	f.Add([]byte(`{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}`), uint8(1))
	f.Add([]byte(`{"\u005fplaceholder":true,"num":1e0,"num":-0}`), uint8(1))
	f.Add([]byte(`[{"_placeholder":true}]`), uint8(3))
	f.Fuzz(func(t *testing.T, raw []byte, n uint8) {
		atts := make([][]byte, n%8)
		for i := range atts {
			atts[i] = []byte{byte(i)}
		}
		v, err := Reconstruct(raw, atts)
		if !json.Valid(raw) {
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("invalid JSON %q: %v", raw, err)
			}
			return
		}
		if len(atts) == 0 && err != nil {
			t.Fatalf("%q without attachments: %v", raw, err)
		}
		if cerr := checkPlaceholders(raw, len(atts)); len(atts) > 0 && (cerr == nil) != (err == nil) {
			t.Fatalf("%q: checkPlaceholders %v, Reconstruct %v", raw, cerr, err)
		}
		if err != nil {
			if !errors.Is(err, ErrBadAttachments) {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		data, got, err := EncodeData(nil, []any{v})
		if err != nil {
			t.Fatalf("EncodeData(%#v): %v", v, err)
		}
		elems, err := SplitArray(data)
		if err != nil || len(elems) != 1 {
			t.Fatalf("SplitArray(%s): %v %v", data, elems, err)
		}
		v2, err := Reconstruct(elems[0], got)
		if err != nil || !reflect.DeepEqual(v, v2) {
			t.Fatalf("round trip of %q via %s:\n got %#v %v\nwant %#v", raw, data, v2, err, v)
		}
	})
}

// FuzzAppendString checks the string fast path against encoding/json.
func FuzzAppendString(f *testing.F) {
	f.Add("a\u2028<\x00\xff")
	f.Fuzz(checkAppendString)
}

// FuzzValidJSON checks validJSON against json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,true,false,null,"\u00e9\n"]}`, ` [ ] `, `01`, `1.`, `"\x"`, `[1,]`, `{"a" 1}`, "\"\x01\"", `-`, `1e`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}

// FuzzSplitArray checks SplitArray against encoding/json.
func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[]`, ` [1, "a,]", {"x":[1]}, null ] `, `[1,]`, `[1] 2`, `{}`, `[[[]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := SplitArray(b)
		var want []json.RawMessage
		if json.Unmarshal(b, &want) != nil || want == nil {
			if err == nil {
				t.Fatalf("SplitArray(%q) = %q, want error", b, got)
			}
			return
		}
		if err != nil || len(got) != len(want) {
			t.Fatalf("SplitArray(%q) = %q, %v; want %q", b, got, err, want)
		}
		for i := range got {
			if !bytes.Equal(bytes.TrimSpace(want[i]), got[i]) {
				t.Fatalf("SplitArray(%q)[%d] = %q, want %q", b, i, got[i], want[i])
			}
		}
	})
}
