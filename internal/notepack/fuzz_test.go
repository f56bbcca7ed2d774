package notepack

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// FuzzUnmarshal: any input decodes or fails without panicking, and what
// decodes re-encodes to bytes that decode to the same JSON form.
func FuzzUnmarshal(f *testing.F) {
	if b, err := os.ReadFile("testdata/vectors.json"); err == nil {
		var vs []vector
		_ = json.Unmarshal(b, &vs)
		for _, v := range vs {
			if raw, err := hex.DecodeString(v.Hex); err == nil {
				f.Add(raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		js1, atts1, err1 := AppendJSONValue(nil, v, nil)
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		v2, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v (%x)", err, b)
		}
		js2, atts2, err2 := AppendJSONValue(nil, v2, nil)
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(js1, js2) || len(atts1) != len(atts2) {
			t.Fatalf("JSON form changed: %s vs %s", js1, js2)
		}
	})
}

// FuzzAppendJSON: any input is accepted or refused without panicking; what
// is accepted and valid JSON decodes back to an equivalent JSON value.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`[1,"a",{"b":null}]`, `{"_placeholder":true,"num":0}`, `1e400`, `"\ud800"`, `-0.0`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := AppendJSON(nil, data, [][]byte{{1, 2}})
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if _, err := Unmarshal(b); err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
	})
}
