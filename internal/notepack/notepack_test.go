package notepack

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
	"time"
)

// vector is one case written by test/cluster/gen-notepack-vectors.mjs with
// the real notepack.io: its encoding, and the JSON (with attachments) that
// socket.io-parser would send for the decoded value.
type vector struct {
	Name        string   `json:"name"`
	Hex         string   `json:"hex"`
	JSON        string   `json:"json"`
	Attachments []string `json:"attachments"`
	Roundtrip   bool     `json:"roundtrip"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 50 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVectorsDecode: what notepack.io wrote (or reads), we read to the
// same JSON and attachments a Node.js server would send to its clients.
func TestVectorsDecode(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			val, err := Unmarshal(unhex(t, v.Hex))
			if err != nil {
				t.Fatal(err)
			}
			js, atts, err := AppendJSONValue(nil, val, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := v.JSON
			if want == "" {
				want = "null" // JSON.stringify(undefined) is no text at all
			}
			if string(js) != want {
				t.Errorf("json\n got %s\nwant %s", js, want)
			}
			if len(atts) != len(v.Attachments) {
				t.Fatalf("%d attachments, want %d", len(atts), len(v.Attachments))
			}
			for i, a := range atts {
				if hex.EncodeToString(a) != v.Attachments[i] {
					t.Errorf("attachment %d = %x, want %s", i, a, v.Attachments[i])
				}
			}
		})
	}
}

// TestVectorsEncode: from the JSON and attachments of a packet we write
// the bytes notepack.io writes for the same JavaScript value.
func TestVectorsEncode(t *testing.T) {
	for _, v := range loadVectors(t) {
		if !v.Roundtrip {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			var atts [][]byte
			for _, a := range v.Attachments {
				atts = append(atts, unhex(t, a))
			}
			got, err := AppendJSON(nil, []byte(v.JSON), atts)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != v.Hex {
				t.Errorf("encoding\n got %x\nwant %s", got, v.Hex)
			}
		})
	}
}

// TestVectorsMarshal: the decoded values marshal back to notepack's bytes.
func TestVectorsMarshal(t *testing.T) {
	for _, v := range loadVectors(t) {
		if !v.Roundtrip {
			continue
		}
		val, err := Unmarshal(unhex(t, v.Hex))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Marshal(val)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != v.Hex {
			t.Errorf("%s: got %x, want %s", v.Name, got, v.Hex)
		}
	}
}

func TestMarshalGoValues(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)
	cases := []struct {
		in   any
		want string
	}{
		{int8(-5), "fb"},
		{uint16(300), "cd012c"},
		{float32(1.5), "cb3ff8000000000000"},
		{2.0, "02"},
		{json.Number("1e2"), "64"},
		{json.Number("1e400"), "cb7ff0000000000000"},
		{[]string{"a"}, "91a161"},
		{map[string]any{"b": 1, "a": Undefined}, "81a16201"},
		{Map{{"z", 1}, {"a", 2}}, "82a17a01a16102"},
		{struct {
			A int `json:"a"`
		}{7}, "81a16107"},
		{(*int)(nil), "c0"},
		{[]byte(nil), "c0"},
		{json.RawMessage(`{"x":[1,2.5]}`), "81a1789201cb4004000000000000"},
		{Ext{Type: 9, Data: []byte{1, 2, 3}}, "c7030901020" + "3"},
		{at, "d7ffa1a5d60065937d25"}, // as notepack.io writes the same Date (vector "date")
	}
	for _, c := range cases {
		got, err := Marshal(c.in)
		if err != nil {
			t.Errorf("%#v: %v", c.in, err)
			continue
		}
		if hex.EncodeToString(got) != c.want {
			t.Errorf("%#v: got %x, want %s", c.in, got, c.want)
		}
	}
	if _, err := Marshal(make(chan int)); err == nil {
		t.Error("chan: no error")
	}
	if _, err := Marshal(json.Number("abc")); err == nil {
		t.Error("bad json.Number: no error")
	}
}

func TestTimeRoundTrip(t *testing.T) {
	for _, at := range []time.Time{
		time.Unix(0, 0), time.Unix(1<<32, 5), time.Unix(-10, 1), time.Unix(1<<35, 0),
	} {
		b, _ := Marshal(at)
		v, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := v.(time.Time); !ok || !got.Equal(at) {
			t.Errorf("%v: got %v (%x)", at, v, b)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	cases := map[string]error{
		"":             ErrTruncated,
		"c1":           ErrInvalid,
		"92c0":         ErrTruncated,
		"c0c0":         ErrTrailing,
		"dbffffffff":   ErrTruncated,
		"ddffffffff":   ErrTruncated,
		"dfffffffff":   ErrTruncated,
		"c6ffffffff00": ErrTruncated,
		"81c0c0":       nil, // nil key: "null", as JavaScript does
		"8191c0c0":     ErrInvalid,
		"cb00":         ErrTruncated,
		"d4":           ErrTruncated,
		"c7ff00":       ErrTruncated,
	}
	for h, want := range cases {
		_, err := Unmarshal(unhex(t, h))
		if want == nil {
			if err != nil {
				t.Errorf("%s: %v", h, err)
			}
			continue
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", h, err, want)
		}
	}
	deep := bytes.Repeat([]byte{0x91}, MaxDepth+5)
	deep = append(deep, 0xc0)
	if _, err := Unmarshal(deep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep: %v", err)
	}
}

func TestAppendJSONErrors(t *testing.T) {
	atts := [][]byte{{1}}
	for _, in := range []string{
		``, `{`, `[1,]`, `{"a"}`, `{"a":1,}`, `01x`, `1.`, `1e`, `-`, `"abc`, "\"a\x01\"", `tru`, `[1] x`,
		`{"_placeholder":true,"num":1}`, `{"_placeholder":true,"num":0.5}`, `{"_placeholder":true}`,
	} {
		if _, err := AppendJSON(nil, []byte(in), atts); !errors.Is(err, ErrBadJSON) {
			t.Errorf("%q: %v", in, err)
		}
	}
	// Without attachments a placeholder is a plain object.
	b, err := AppendJSON(nil, []byte(`{"_placeholder":true,"num":3}`), nil)
	if err != nil || hex.EncodeToString(b) != "82ac5f706c616365686f6c646572c3a36e756d03" {
		t.Errorf("got %x, %v", b, err)
	}
}

func TestParseJSON(t *testing.T) {
	v, err := ParseJSON([]byte(` {"a":[1,2.5,"\u00e9",null,true,{"_placeholder":true,"num":0}],"b":1e300} `), [][]byte{{9}})
	if err != nil {
		t.Fatal(err)
	}
	m := v.(Map)
	arr := m[0].Value.([]any)
	if arr[0] != int64(1) || arr[1] != 2.5 || arr[2] != "é" || arr[3] != nil || arr[4] != true || !bytes.Equal(arr[5].([]byte), []byte{9}) {
		t.Errorf("got %#v", arr)
	}
	if m[1].Value != 1e300 {
		t.Errorf("b = %#v", m[1].Value)
	}
}

func TestAppendNumber(t *testing.T) {
	for f, want := range map[float64]string{
		1e21: "1e+21", 1e-7: "1e-7", 1.5e-7: "1.5e-7", 1e-6: "0.000001", 123.456: "123.456",
		math.Copysign(0, -1): "0", math.Inf(-1): "null", 1e100: "1e+100", -2.5e-10: "-2.5e-10",
	} {
		if got := string(appendNumber(nil, f)); got != want {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

func TestJSONStringInvalidUTF8(t *testing.T) {
	if got := string(AppendJSONString(nil, "a\xffb")); got != "\"a\ufffdb\"" {
		t.Errorf("got %q", got)
	}
}
