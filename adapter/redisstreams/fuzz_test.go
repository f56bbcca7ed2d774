package redisstreams

import (
	"encoding/hex"
	"testing"

	"github.com/sockio/sockio/internal/notepack"
)

// FuzzDecodeEntry: any stream entry decodes or fails, never panics; what
// decodes with object data encodes again and decodes to the same message.
func FuzzDecodeEntry(f *testing.F) {
	f.Add("a", "/", "3", `{"packet":{"type":2,"data":["x"]}}`)
	f.Add("a", "/", "3", "gqZwYWNrZXSDpHR5cGUFpGRhdGGTo2JpbsQDAQIDgaZuZXN0ZWTEAKNuc3ClL2NoYXSkb3B0c4Olcm9vbXOQpmV4Y2VwdJClZmxhZ3OBqHZvbGF0aWxlww==")
	f.Add("a", "/", "6", "")
	f.Add("", "", "", "")
	f.Add("a", "/", "3", "3w==")
	f.Fuzz(func(t *testing.T, uid, nsp, typ, data string) {
		m, ok, err := decodeEntry(map[string]any{"uid": uid, "nsp": nsp, "type": typ, "data": data})
		if !ok || err != nil {
			return
		}
		if _, isMap := m.Data.(notepack.Map); !isMap && m.Data != nil {
			// Data is an object in the protocol; JSON of anything else
			// does not start with '{' and would not read back, in Node.js
			// either.
			return
		}
		f, err := encodeEntry(m, false)
		if err != nil {
			return // e.g. a timestamp out of JSON's range
		}
		m2, ok, err := decodeEntry(fieldMap(f))
		if !ok || err != nil || m2.UID != m.UID || m2.NSP != m.NSP || m2.Type != m.Type {
			t.Fatalf("re-encoded %q: %v %v %+v", f, ok, err, m2)
		}
	})
}

// FuzzDecodePayload: any Pub/Sub payload decodes or fails, never panics.
func FuzzDecodePayload(f *testing.F) {
	for _, h := range []string{
		"84a474797065 03a464617461 80a3756964 a161a36e7370 a12f",
		"c1", "dfffffffff", "",
	} {
		b, _ := hex.DecodeString(stripSpaces(h))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodePayload(b)
		if err != nil {
			return
		}
		if _, err := encodePayload(m); err != nil {
			return
		}
	})
}

// FuzzDecodeSession: any stored session decodes or fails, never panics.
func FuzzDecodeSession(f *testing.F) {
	f.Add("hKNzaWS0c2lkMTIzNDU2Nzg5MGFiY2RlZmejcGlkqXBpZC12ZWMtMaVyb29tc5K0c2lkMTIzNDU2Nzg5MGFiY2RlZmeicjGkZGF0YYSkbmFtZaNhbm6hbgOkbGlzdJMBoXjAom9rww==")
	f.Add("")
	f.Add("3w==")
	f.Fuzz(func(t *testing.T, raw string) { _, _ = decodeSession(raw) })
}

func stripSpaces(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		if s[i] != ' ' {
			out = append(out, s[i])
		}
	}
	return string(out)
}
