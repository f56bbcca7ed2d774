package parser

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzMsgpackDecoder feeds one binary message to a MsgpackDecoder and
// checks that it never panics, fails only with a sentinel error, yields
// packets the rest of sockio can use (valid JSON, a valid event name,
// placeholders that Reconstruct accepts) within a constant factor of the
// message's size, and that every packet re-encodes to a message that
// decodes to an equal packet. The seed corpus is testdata/msgpack-vectors.json
// (the reference's own encodings) plus testdata/fuzz/FuzzMsgpackDecoder.
func FuzzMsgpackDecoder(f *testing.F) {
	canonical, decodeOnly, invalid := loadMsgpackVectors(f)
	for _, v := range append(append(canonical, decodeOnly...), invalid...) {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var d MsgpackDecoder
		p, err := d.Add(msg, true)
		if err != nil {
			if p != nil || !isSentinel(err) {
				t.Fatalf("error %v (packet %v)", err, p)
			}
			return
		}
		if !p.Type.Valid() || p.Type.IsBinary() != (len(p.Attachments) > 0) {
			t.Fatalf("%v with %d attachments", p.Type, len(p.Attachments))
		}
		if p.Data != nil && !json.Valid(p.Data) {
			t.Fatalf("invalid JSON %q", p.Data)
		}
		if len(p.Data) > 40*len(msg)+64 {
			t.Fatalf("%d bytes of JSON from a %d-byte message", len(p.Data), len(msg))
		}
		switch p.Type {
		case Event, BinaryEvent:
			if name, err := EventName(p.Data); err != nil || IsReserved(name) {
				t.Fatalf("event name of %s: %q %v", p.Data, name, err)
			}
		}
		if p.Type.IsBinary() {
			args, err := SplitArray(p.Data)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range args {
				if _, err := Reconstruct(a, p.Attachments); err != nil {
					t.Fatalf("Reconstruct(%s): %v", a, err)
				}
			}
		}

		msgs, err := Msgpack.Encode(p)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", p, err)
		}
		q, err := new(MsgpackDecoder).Add(msgs[0].Data, true)
		if err != nil {
			t.Fatalf("re-decoding %x: %v", msgs[0].Data, err)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.HasID != p.HasID || q.ID != p.ID {
			t.Fatalf("round trip:\n%+v\n%+v", p, q)
		}
		if !p.Type.IsBinary() {
			if !bytes.Equal(q.Data, p.Data) || len(q.Attachments) != 0 {
				t.Fatalf("round trip:\n%s\n%s", p.Data, q.Data)
			}
			return
		}
		// A placeholder lookalike in a binary packet is a placeholder (as
		// in the default format): it comes back as a second copy of its
		// attachment, so compare the values.
		pv, err1 := Reconstruct(p.Data, p.Attachments)
		qv, err2 := Reconstruct(q.Data, q.Attachments)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(pv, qv) {
			t.Fatalf("round trip:\n%v\n%v (%v, %v)", pv, qv, err1, err2)
		}
	})
}
