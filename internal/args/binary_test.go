package args

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sockio/sockio/parser"
)

// binArgs is one argument {"data": <binary>, "n": 1, "list": [<binary>],
// "nested": {"inner": <binary>}} with two attachments.
func binArgs(t *testing.T) Args {
	t.Helper()
	var d parser.Decoder
	head := `52-["e",{"data":{"_placeholder":true,"num":0},"n":1,"list":["s",{"_placeholder":true,"num":1}],"nested":{"inner":{"_placeholder":true,"num":0}}}]`
	p, err := d.Add([]byte(head), false)
	if err != nil || p != nil {
		t.Fatalf("header: %v %v", p, err)
	}
	if _, err = d.Add([]byte{1, 2}, true); err != nil {
		t.Fatal(err)
	}
	if p, err = d.Add([]byte{3}, true); err != nil || p == nil {
		t.Fatalf("attachment: %v %v", p, err)
	}
	a, err := FromPacket(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func isBytes(t *testing.T, what string, v any, want []byte) {
	t.Helper()
	b, ok := v.([]byte)
	if !ok || !bytes.Equal(b, want) {
		t.Errorf("%s = %#v, want []byte %v", what, v, want)
	}
}

// Binary parts arrive as []byte in every slot whose type allows it.
func TestDecodeBinaryIntoAny(t *testing.T) {
	a := binArgs(t)
	t.Run("any field", func(t *testing.T) {
		var v struct {
			Data any `json:"data"`
			N    int `json:"n"`
		}
		if err := a.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		isBytes(t, "Data", v.Data, []byte{1, 2})
		if v.N != 1 {
			t.Errorf("N = %d", v.N)
		}
	})
	t.Run("nested struct", func(t *testing.T) {
		type inner struct{ Inner any }
		var v struct {
			Nested *inner `json:"nested"`
			Data   []byte `json:"data"`
		}
		if err := a.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		isBytes(t, "Nested.Inner", v.Nested.Inner, []byte{1, 2})
		isBytes(t, "Data", v.Data, []byte{1, 2})
	})
	t.Run("embedded struct", func(t *testing.T) {
		type Base struct {
			Data any `json:"data"`
		}
		var v struct {
			Base
			N int `json:"n"`
		}
		if err := a.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		isBytes(t, "Base.Data", v.Data, []byte{1, 2})
	})
	t.Run("map of any", func(t *testing.T) {
		var v map[string]any
		if err := a.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		isBytes(t, "data", v["data"], []byte{1, 2})
		isBytes(t, "nested.inner", v["nested"].(map[string]any)["inner"], []byte{1, 2})
	})
	t.Run("map of any in a struct", func(t *testing.T) {
		var v struct{ Nested map[string]any }
		if err := a.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		isBytes(t, "Nested[inner]", v.Nested["inner"], []byte{1, 2})
	})
	t.Run("slice of any", func(t *testing.T) {
		var v struct {
			List []any `json:"list"`
		}
		if err := a.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		if len(v.List) != 2 || v.List[0] != "s" {
			t.Fatalf("List = %#v", v.List)
		}
		isBytes(t, "List[1]", v.List[1], []byte{3})
	})
	t.Run("string field keeps base64", func(t *testing.T) {
		var v struct {
			Data string `json:"data"`
		}
		if err := a.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		if v.Data != "AQI=" {
			t.Errorf("Data = %q", v.Data)
		}
	})
	t.Run("raw message untouched", func(t *testing.T) {
		var v struct {
			Data json.RawMessage `json:"data"`
		}
		if err := a.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		if string(v.Data) != `"AQI="` {
			t.Errorf("Data = %s", v.Data)
		}
	})
}
