package args

import (
	"encoding/json"
	"testing"

	"github.com/sockio/sockio/parser"
)

func TestEventName(t *testing.T) {
	for raw, want := range map[string]string{`"chat"`: "chat", `"a\"b"`: `a"b`, `"\u00e9t\u00e9"`: "été", `12`: "12"} {
		if got, err := EventName([]byte(raw)); err != nil || got != want {
			t.Errorf("EventName(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
}

// Args sent on keep their values, numbers as written and binary parts;
// with binary parts, object keys come back sorted (the values are rebuilt).
func TestArgsRoundTrip(t *testing.T) {
	var d parser.Decoder
	p, err := d.Add([]byte(`51-["e",{"b":1,"a":2.50},{"_placeholder":true,"num":0}]`), false)
	if err != nil || p != nil {
		t.Fatalf("header: %v %v", p, err)
	}
	if p, err = d.Add([]byte{1, 2}, true); err != nil || p == nil {
		t.Fatalf("attachment: %v %v", p, err)
	}
	a, err := FromPacket(p, 1)
	if err != nil || a.Len() != 2 {
		t.Fatalf("args %v %v", a, err)
	}
	var bin []byte
	if err := a.Decode(1, &bin); err != nil || string(bin) != "\x01\x02" {
		t.Fatalf("binary arg %q %v", bin, err)
	}
	out, err := AckPacket("/", 7, []any{a})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(parser.AppendText(nil, out)); got != `61-7[{"a":2.50,"b":1},{"_placeholder":true,"num":0}]` || len(out.Attachments) != 1 {
		t.Fatalf("ack %s with %d attachments", got, len(out.Attachments))
	}
	var m map[string]json.Number
	if err := a.Decode(0, &m); err != nil || m["a"] != "2.5" {
		t.Fatalf("decoded %v %v", m, err)
	}
}

// Without binary parts, Args sent on are the bytes received.
func TestArgsVerbatim(t *testing.T) {
	var d parser.Decoder
	p, err := d.Add([]byte(`2["e",{"b":1,"a":2.50},"x"]`), false)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := FromPacket(p, 1)
	out, err := EventPacket("/", "again", []any{a})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(parser.AppendText(nil, out)); got != `2["again",{"b":1,"a":2.50},"x"]` {
		t.Fatalf("got %s", got)
	}
}
