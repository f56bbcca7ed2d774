package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

const ph0 = `{"_placeholder":true,"num":0}`
const ph1 = `{"_placeholder":true,"num":1}`

// decodeAll feeds text then atts to a fresh decoder and returns the packet.
func decodeAll(t *testing.T, d *Decoder, text string, atts ...[]byte) (*Packet, error) {
	t.Helper()
	p, err := d.Add([]byte(text), false)
	if err != nil || p != nil {
		if len(atts) > 0 && err == nil {
			t.Fatalf("%q: packet complete before its %d attachments", text, len(atts))
		}
		return p, err
	}
	for i, a := range atts {
		p, err = d.Add(a, true)
		if err != nil {
			return nil, err
		}
		if (p != nil) != (i == len(atts)-1) {
			t.Fatalf("%q: packet after attachment %d of %d: %v", text, i+1, len(atts), p != nil)
		}
	}
	if p == nil {
		t.Fatalf("%q: no packet after %d attachments", text, len(atts))
	}
	return p, nil
}

func TestDecodeValid(t *testing.T) {
	a1, a2 := []byte{1, 2, 3, 4}, []byte{}
	tests := []struct {
		in    string
		atts  [][]byte
		want  Packet
		canon string // AppendText of the result when it differs from in
	}{
		// Spec examples.
		{in: `0`, want: Packet{Type: Connect, Namespace: "/"}},
		{in: `0/admin,{"token":"123"}`, want: Packet{Type: Connect, Namespace: "/admin", Data: raw(`{"token":"123"}`)}},
		{in: `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`, want: Packet{Type: Connect, Namespace: "/admin", Data: raw(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
		{in: `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`, want: Packet{Type: Connect, Namespace: "/", Data: raw(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}},
		{in: `0/admin,`, want: Packet{Type: Connect, Namespace: "/admin"}},
		{in: `0/custom`, want: Packet{Type: Connect, Namespace: "/custom"}, canon: `0/custom,`},
		{in: `1`, want: Packet{Type: Disconnect, Namespace: "/"}},
		{in: `1/admin,`, want: Packet{Type: Disconnect, Namespace: "/admin"}},
		{in: `2["foo"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["foo"]`)}},
		{in: `2["hello",1]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["hello",1]`)}},
		{in: `2/admin,["bar"]`, want: Packet{Type: Event, Namespace: "/admin", Data: raw(`["bar"]`)}},
		{in: `212["foo"]`, want: Packet{Type: Event, Namespace: "/", ID: 12, HasID: true, Data: raw(`["foo"]`)}},
		{in: `2/admin,456["project:delete",123]`, want: Packet{Type: Event, Namespace: "/admin", ID: 456, HasID: true, Data: raw(`["project:delete",123]`)}},
		{in: `3/admin,456[]`, want: Packet{Type: Ack, Namespace: "/admin", ID: 456, HasID: true, Data: raw(`[]`)}},
		{in: `3/admin,13["bar"]`, want: Packet{Type: Ack, Namespace: "/admin", ID: 13, HasID: true, Data: raw(`["bar"]`)}},
		{in: `4{"message":"Not authorized"}`, want: Packet{Type: ConnectError, Namespace: "/", Data: raw(`{"message":"Not authorized"}`)}},
		{in: `44/random,{"message":"Invalid namespace"}`[1:], want: Packet{Type: ConnectError, Namespace: "/random", Data: raw(`{"message":"Invalid namespace"}`)}},
		{in: `51-["baz",` + ph0 + `]`, atts: [][]byte{a1}, want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["baz",` + ph0 + `]`), Attachments: [][]byte{a1}}},
		{in: `51-["hello",` + ph0 + `]`, atts: [][]byte{a1}, want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["hello",` + ph0 + `]`), Attachments: [][]byte{a1}}},
		{in: `52-/admin,["baz",` + ph0 + `,` + ph1 + `]`, atts: [][]byte{a1, a2}, want: Packet{Type: BinaryEvent, Namespace: "/admin", Data: raw(`["baz",` + ph0 + `,` + ph1 + `]`), Attachments: [][]byte{a1, a2}}},
		{in: `61-15["bar",` + ph0 + `]`, atts: [][]byte{a1}, want: Packet{Type: BinaryAck, Namespace: "/", ID: 15, HasID: true, Data: raw(`["bar",` + ph0 + `]`), Attachments: [][]byte{a1}}},
		{in: `61-/admin,456[` + ph0 + `]`, atts: [][]byte{a1}, want: Packet{Type: BinaryAck, Namespace: "/admin", ID: 456, HasID: true, Data: raw(`[` + ph0 + `]`), Attachments: [][]byte{a1}}},
		{in: `61-/admin,1[` + ph0 + `]`, atts: [][]byte{a1}, want: Packet{Type: BinaryAck, Namespace: "/admin", ID: 1, HasID: true, Data: raw(`[` + ph0 + `]`), Attachments: [][]byte{a1}}},

		// Reference behaviour worth pinning down.
		{in: `2[1,"x"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`[1,"x"]`)}},         // numeric event name
		{in: `2[-1.5e3]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`[-1.5e3]`)}},       // any number
		{in: `2["Connect"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["Connect"]`)}}, // case-sensitive
		{in: `2["conn\"ect"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["conn\"ect"]`)}},
		{in: `2[ "a" ] `, want: Packet{Type: Event, Namespace: "/", Data: raw(`[ "a" ] `)}}, // JSON whitespace kept verbatim
		{in: `2/,["a"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["a"]`)}, canon: `2["a"]`},
		{in: `2007["a"]`, want: Packet{Type: Event, Namespace: "/", ID: 7, HasID: true, Data: raw(`["a"]`)}, canon: `27["a"]`},
		{in: `218446744073709551615["a"]`, want: Packet{Type: Event, Namespace: "/", ID: math.MaxUint64, HasID: true, Data: raw(`["a"]`)}},
		{in: `05`, want: Packet{Type: Connect, Namespace: "/", ID: 5, HasID: true}}, // ids are allowed on every type
		{in: `4"refused"`, want: Packet{Type: ConnectError, Namespace: "/", Data: raw(`"refused"`)}},
		{in: `0/ü/x y,{}`, want: Packet{Type: Connect, Namespace: "/ü/x y", Data: raw(`{}`)}},
		{in: `501-["a",` + ph0 + `]`, atts: [][]byte{a1}, want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["a",` + ph0 + `]`), Attachments: [][]byte{a1}}, canon: `51-["a",` + ph0 + `]`},
		// Placeholder look-alikes and placeholders the reference accepts.
		{in: `2["a",` + ph0 + `]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["a",` + ph0 + `]`)}}, // not binary: not checked
		{in: `51-["a",{"_placeholder":"true","num":9},{"_placeholder":false},` + ph0 + `]`, atts: [][]byte{a1}, want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":"true","num":9},{"_placeholder":false},` + ph0 + `]`), Attachments: [][]byte{a1}}},
		{in: `51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":7}}]`, atts: [][]byte{a1}, want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":7}}]`), Attachments: [][]byte{a1}}},
		{in: `51-["a",{"num":-0,"_placeholder":true}]`, atts: [][]byte{a1}, want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["a",{"num":-0,"_placeholder":true}]`), Attachments: [][]byte{a1}}},
		{in: `52-["a",{"_placeholder":true,"num":1e0},{"\u005fplaceholder":true,"num":0.0}]`, atts: [][]byte{a1, a2}, want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":1e0},{"\u005fplaceholder":true,"num":0.0}]`), Attachments: [][]byte{a1, a2}}},
	}
	for _, tt := range tests {
		var d Decoder
		p, err := decodeAll(t, &d, tt.in, tt.atts...)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !equalPacket(p, &tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.in, *p, tt.want)
		}
		if d.Awaiting() {
			t.Errorf("%q: decoder still awaiting", tt.in)
		}
		canon := tt.canon
		if canon == "" {
			canon = tt.in
		}
		if got := string(AppendText(nil, p)); got != canon {
			t.Errorf("AppendText(decode(%q)) = %q, want %q", tt.in, got, canon)
		}
	}
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func equalPacket(a, b *Packet) bool {
	if a.Type != b.Type || a.Namespace != b.Namespace || a.ID != b.ID ||
		a.HasID != b.HasID || !bytes.Equal(a.Data, b.Data) || (a.Data == nil) != (b.Data == nil) ||
		len(a.Attachments) != len(b.Attachments) {
		return false
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return false
		}
	}
	return true
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{``, ErrEmpty},
		{`7`, ErrUnknownType},
		{`a`, ErrUnknownType},
		{`/admin,`, ErrUnknownType},
		{` 2["a"]`, ErrUnknownType},
		{"\xff", ErrUnknownType},

		{`5["a",` + ph0 + `]`, ErrBadAttachments},
		{`5-["a",` + ph0 + `]`, ErrBadAttachments}, // the reference reads "" as 0, then rejects 0
		{`50-["a"]`, ErrBadAttachments},
		{`51["a",` + ph0 + `]`, ErrBadAttachments},
		{`5x-["a"]`, ErrBadAttachments},
		{`51`, ErrBadAttachments},
		{`6`, ErrBadAttachments},
		{`511-["a"]`, ErrTooManyAttachments},
		{`599999999999999999999999999-["a"]`, ErrTooManyAttachments},

		{`0admin,{}`, ErrBadNamespace},
		{`2admin,["a"]`, ErrBadNamespace},
		{"0/\xff,", ErrBadNamespace},

		{`218446744073709551616["a"]`, ErrBadID},
		{`299999999999999999999999["a"]`, ErrBadID},
		{`2abc["message-with-ack",1,"2",{"3":[false]}]`, ErrBadID}, // protocol test suite
		{`2 ["a"]`, ErrBadID},
		{`21a["a"]`, ErrBadID},
		{`2/admin,x["a"]`, ErrBadID},
		{`21+["a"]`, ErrBadID},

		{`2{}`, ErrInvalidPayload}, // protocol test suite
		{`2[]`, ErrInvalidPayload},
		{`2[ ]`, ErrInvalidPayload},
		{`2[{}]`, ErrInvalidPayload},
		{`2[null]`, ErrInvalidPayload},
		{`2[["a"]]`, ErrInvalidPayload},
		{`2["a"`, ErrInvalidPayload},
		{`2["a"]]`, ErrInvalidPayload},
		{`2["a"]x`, ErrInvalidPayload},
		{`2"a"`, ErrInvalidPayload},
		{`2null`, ErrInvalidPayload},
		{`2-1["a"]`, ErrInvalidPayload},
		{"2[\"a\xff\"", ErrInvalidPayload},
		{`0[]`, ErrInvalidPayload},
		{`0"x"`, ErrInvalidPayload},
		{`0null`, ErrInvalidPayload},
		{`0{"a":1}x`, ErrInvalidPayload},
		{`0{`, ErrInvalidPayload},
		{`1{}`, ErrInvalidPayload},
		{`1/admin,[]`, ErrInvalidPayload},
		{`3{}`, ErrInvalidPayload},
		{`3"a"`, ErrInvalidPayload},
		{`4`, ErrInvalidPayload},
		{`4[]`, ErrInvalidPayload},
		{`4true`, ErrInvalidPayload},
		{`51-`, ErrInvalidPayload},
		{`51-{}`, ErrInvalidPayload},
		{`61-{}`, ErrInvalidPayload},
		{`51-[]`, ErrInvalidPayload},

		{`2["connect"]`, ErrReservedEvent},
		{`2["connect_error",1]`, ErrReservedEvent},
		{`2/admin,1["disconnect"]`, ErrReservedEvent},
		{`2["disconnecting"]`, ErrReservedEvent},
		{`2["newListener"]`, ErrReservedEvent},
		{`2[ "removeListener" ]`, ErrReservedEvent},
		{`2["conn\u0065ct"]`, ErrReservedEvent},
		{`51-["disconnect",` + ph0 + `]`, ErrReservedEvent},

		{`51-["a",` + ph1 + `]`, ErrBadAttachments},
		{`51-["a",{"_placeholder":true,"num":"0"}]`, ErrBadAttachments},
		{`51-["a",{"_placeholder":true,"num":-1}]`, ErrBadAttachments},
		{`51-["a",{"_placeholder":true,"num":0.5}]`, ErrBadAttachments},
		{`51-["a",{"_placeholder":true,"num":1e400}]`, ErrBadAttachments},
		{`51-["a",{"_placeholder":true}]`, ErrBadAttachments},
		{`51-["a",{"_placeholder":true,"num":null}]`, ErrBadAttachments},
		{`51-["a",{"num":0,"_placeholder":true,"num":1}]`, ErrBadAttachments},              // last key wins
		{`51-["a",{"_placeholder":false,"_placeholder":true,"num":3}]`, ErrBadAttachments}, // last key wins
		{`51-["a",{"x":[{"y":{"_placeholder":true,"num":2}}]}]`, ErrBadAttachments},
		{`51-["a",{"\u005fplaceholder":true,"num":2}]`, ErrBadAttachments},
	}
	for _, tt := range tests {
		var d Decoder
		p, err := d.Add([]byte(tt.in), false)
		if !errors.Is(err, tt.want) {
			t.Errorf("%q: got (%v, %v), want %v", tt.in, p, err, tt.want)
		}
		if err != nil && p != nil {
			t.Errorf("%q: packet returned with an error", tt.in)
		}
		if d.Awaiting() {
			t.Errorf("%q: awaiting after an error", tt.in)
		}
	}
}

func TestDecoderState(t *testing.T) {
	var d Decoder
	if _, err := d.Add([]byte{1}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatalf("binary first: %v", err)
	}

	// A text message while attachments are awaited: error, then reset.
	if p, err := d.Add([]byte(`52-["a",`+ph0+`,`+ph1+`]`), false); p != nil || err != nil {
		t.Fatalf("header: %v %v", p, err)
	}
	if !d.Awaiting() {
		t.Fatal("not awaiting after a binary header")
	}
	if p, err := d.Add([]byte{1}, true); p != nil || err != nil {
		t.Fatalf("first attachment: %v %v", p, err)
	}
	if _, err := d.Add([]byte(`2["a"]`), false); !errors.Is(err, ErrUnexpectedText) {
		t.Fatalf("text while awaiting: %v", err)
	}
	if d.Awaiting() {
		t.Fatal("awaiting after an error")
	}
	if _, err := d.Add([]byte{2}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatalf("attachment after reset: %v", err)
	}

	// Reset drops a partial packet.
	d.Add([]byte(`51-["a",`+ph0+`]`), false)
	d.Reset()
	if d.Awaiting() {
		t.Fatal("awaiting after Reset")
	}
	if p, err := d.Add([]byte(`2["b"]`), false); err != nil || string(p.Data) != `["b"]` {
		t.Fatalf("after Reset: %v %v", p, err)
	}

	// Back-to-back binary packets, and a custom limit.
	d = Decoder{MaxAttachments: 2}
	for range 2 {
		if p, err := decodeAll(t, &d, `62-7[`+ph1+`,`+ph0+`]`, []byte("x"), []byte("y")); err != nil ||
			string(p.Attachments[0]) != "x" || string(p.Attachments[1]) != "y" || p.ID != 7 {
			t.Fatalf("binary ack: %+v %v", p, err)
		}
	}
	if _, err := d.Add([]byte(`63-[`+ph0+`]`), false); !errors.Is(err, ErrTooManyAttachments) {
		t.Fatalf("over custom limit: %v", err)
	}
	d = Decoder{MaxAttachments: 100}
	if _, err := d.Add([]byte(`655-[`+ph0+`]`), false); err != nil || !d.Awaiting() {
		t.Fatalf("under custom limit: %v", err)
	}
}

// Data aliases the message, with capped capacity.
func TestDecodeAliases(t *testing.T) {
	msg := []byte(`2/admin,1["a",1]`)
	var d Decoder
	p, err := d.Add(msg, false)
	if err != nil {
		t.Fatal(err)
	}
	if &p.Data[0] != &msg[len(msg)-len(p.Data)] {
		t.Error("Data does not alias the message")
	}
	if cap(p.Data) != len(p.Data) {
		t.Errorf("cap(Data) = %d, want %d", cap(p.Data), len(p.Data))
	}
}

func TestDecodeAllocs(t *testing.T) {
	for _, in := range []string{`2["message",{"a":1},"text",3]`, `3/admin,12[1]`, `0`} {
		msg := []byte(in)
		var d Decoder
		n := testing.AllocsPerRun(100, func() {
			if _, err := d.Add(msg, false); err != nil {
				t.Fatal(err)
			}
		})
		if n != 1 { // the Packet; the namespace string is reused
			t.Errorf("%q: %v allocs, want 1", in, n)
		}
	}
	// The namespace cache must not leak into the next packet.
	var d Decoder
	for _, ns := range []string{"/a", "/b", "/a", "/"} {
		p, err := d.Add([]byte("0"+ns+","), false)
		if err != nil || p.Namespace != ns {
			t.Fatalf("namespace %q: got %v, %v", ns, p, err)
		}
	}
}

func TestAppendText(t *testing.T) {
	tests := []struct {
		p    Packet
		want string
	}{
		{Packet{Type: Connect}, `0`},
		{Packet{Type: Connect, Namespace: "/"}, `0`},
		{Packet{Type: Disconnect, Namespace: "/admin"}, `1/admin,`},
		{Packet{Type: Event, Namespace: "/admin", ID: 456, HasID: true, Data: raw(`["project:delete",123]`)}, `2/admin,456["project:delete",123]`},
		{Packet{Type: Ack, ID: 0, HasID: true, Data: raw(`[]`)}, `30[]`},
		{Packet{Type: ConnectError, Data: raw(`{"message":"Not authorized"}`)}, `4{"message":"Not authorized"}`},
		{Packet{Type: BinaryEvent, Data: raw(`["hello",` + ph0 + `]`), Attachments: [][]byte{{1}}}, `51-["hello",` + ph0 + `]`},
		{Packet{Type: BinaryAck, Namespace: "/admin", ID: 456, HasID: true, Data: raw(`[` + ph0 + `]`), Attachments: [][]byte{{1}}}, `61-/admin,456[` + ph0 + `]`},
		{Packet{Type: BinaryEvent, Data: raw(`[]`), Attachments: make([][]byte, 12)}, `512-[]`},
		{Packet{Type: 12}, `12`},
	}
	for _, tt := range tests {
		if got := string(AppendText([]byte("x"), &tt.p)); got != "x"+tt.want {
			t.Errorf("AppendText(%+v) = %q, want %q", tt.p, got, "x"+tt.want)
		}
	}
	p := &Packet{Type: Event, Namespace: "/admin", ID: 1, HasID: true, Data: raw(`["a"]`)}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendText(buf[:0], p) }); n != 0 {
		t.Errorf("AppendText allocates %v times", n)
	}
}

func TestTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "Type(7)"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
		if Type(i).Valid() != (i < 7) || Type(i).IsBinary() != (i == 5 || i == 6) {
			t.Errorf("Type(%d): Valid/IsBinary wrong", i)
		}
	}
}

func TestIsReserved(t *testing.T) {
	for _, s := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if !IsReserved(s) || !isReservedBytes([]byte(s)) {
			t.Errorf("%q not reserved", s)
		}
	}
	for _, s := range []string{"", "Connect", "connection", "message", "error", "newlistener"} {
		if IsReserved(s) || isReservedBytes([]byte(s)) {
			t.Errorf("%q reserved", s)
		}
	}
}

func TestEncodeData(t *testing.T) {
	b1, b2, b3 := []byte{1}, []byte{2}, []byte(nil)
	type point struct {
		X, Y int
		B    []byte
	}
	tests := []struct {
		args []any
		want string
		atts [][]byte
	}{
		{nil, `[]`, nil},
		{[]any{"hello", 1, true, nil}, `["hello",1,true,null]`, nil},
		{[]any{"a", b1}, `["a",` + ph0 + `]`, [][]byte{b1}},
		{[]any{b1, []any{b2, map[string]any{"z": b3, "a": 1}}}, `[` + ph0 + `,[` + ph1 + `,{"a":1,"z":{"_placeholder":true,"num":2}}]]`, [][]byte{b1, b2, b3}},
		{[]any{json.RawMessage(` {"x" : 1} `), json.RawMessage(nil)}, `[ {"x" : 1} ,null]`, nil},
		{[]any{"<a&b>", "é\u2028\u2029\x00\x1f\"\\\n\r\t\b\f", "\xff"}, `["<a&b>","é\u2028\u2029\u0000\u001f\"\\\n\r\t\b\f","\ufffd"]`, nil},
		{[]any{1.5, 0.0, math.Copysign(0, -1), 1e20, 1e21, 1e-6, 1e-7, float32(0.1), int64(-3), uint64(math.MaxUint64), int32(-1), uint32(7), uint(8)},
			`[1.5,0,-0,100000000000000000000,1e+21,0.000001,1e-7,0.1,-3,18446744073709551615,-1,7,8]`, nil},
		{[]any{json.Number("12.50"), point{1, 2, []byte{3}}, map[string]int{"b": 1, "a": 2}, []any(nil), map[string]any(nil)},
			`[12.50,{"X":1,"Y":2,"B":"Aw=="},{"a":2,"b":1},null,null]`, nil},
	}
	for _, tt := range tests {
		data, atts, err := EncodeData([]byte("pre"), tt.args)
		if err != nil {
			t.Errorf("EncodeData(%v): %v", tt.args, err)
			continue
		}
		if string(data) != "pre"+tt.want {
			t.Errorf("EncodeData(%v)\n got %s\nwant pre%s", tt.args, data, tt.want)
		}
		if len(atts) != len(tt.atts) {
			t.Errorf("EncodeData(%v): %d attachments, want %d", tt.args, len(atts), len(tt.atts))
			continue
		}
		for i := range atts {
			if len(tt.atts[i]) > 0 && &atts[i][0] != &tt.atts[i][0] {
				t.Errorf("attachment %d is not the original slice", i)
			}
		}
	}

	cyc := []any{nil}
	cyc[0] = cyc
	for _, args := range [][]any{{math.NaN()}, {math.Inf(1)}, {json.RawMessage(`{`)}, {cyc}, {func() {}}} {
		dst := []byte("pre")
		got, _, err := EncodeData(dst, args)
		if err == nil {
			t.Errorf("EncodeData(%T): no error", args[0])
		}
		if string(got) != "pre" {
			t.Errorf("EncodeData error: dst changed to %q", got)
		}
	}
}

// appendString must agree with encoding/json (HTML escaping off).
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "plain", string(all), "\u2028x\u2029", "日本語", "\xed\xa0\x80", "a\xc3"} {
		checkAppendString(t, s)
	}
}

func checkAppendString(t *testing.T, s string) {
	t.Helper()
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	if got := appendString(nil, s); string(got)+"\n" != want.String() {
		t.Errorf("appendString(%q) = %s, want %s", s, got, want.Bytes())
	}
}

func TestSplitArray(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`[]`, []string{}},
		{` [ ] `, []string{}},
		{`["a"]`, []string{`"a"`}},
		{` [ 1 , "a,]\"[" , {"x":[1,{"y":"}"}]} , null,true ,[[]], -2.5e3 ] `, []string{`1`, `"a,]\"["`, `{"x":[1,{"y":"}"}]}`, `null`, `true`, `[[]]`, `-2.5e3`}},
	}
	for _, tt := range tests {
		got, err := SplitArray([]byte(tt.in))
		if err != nil {
			t.Errorf("SplitArray(%q): %v", tt.in, err)
			continue
		}
		if got == nil || len(got) != len(tt.want) {
			t.Errorf("SplitArray(%q) = %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tt.want[i] || cap(got[i]) != len(got[i]) {
				t.Errorf("SplitArray(%q)[%d] = %q, want %q", tt.in, i, got[i], tt.want[i])
			}
		}
	}
	for _, in := range []string{``, ` `, `{}`, `"[1]"`, `[1,]`, `[1`, `[1]]`, `[1] [2]`, `null`} {
		if _, err := SplitArray([]byte(in)); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("SplitArray(%q): %v, want ErrInvalidPayload", in, err)
		}
	}
}

func TestEventName(t *testing.T) {
	for in, want := range map[string]string{`["a",1]`: "a", ` [ "x\u0041" ]`: "xA", `[12]`: "12", `[-1.5]`: "-1.5"} {
		if got, err := EventName(raw(in)); err != nil || got != want {
			t.Errorf("EventName(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{``, `[]`, `{}`, `[null]`, `[{}]`, `["a"`} {
		if _, err := EventName(raw(in)); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("EventName(%s): %v, want ErrInvalidPayload", in, err)
		}
	}
}

func TestReconstruct(t *testing.T) {
	a, b := []byte{1, 2}, []byte{3}
	got, err := Reconstruct(raw(`["x",`+ph1+`,{"k":[`+ph0+`],"n":1.50,"big":12345678901234567890,"p":{"_placeholder":false}}]`), [][]byte{a, b})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"x", b, map[string]any{"k": []any{a}, "n": json.Number("1.50"), "big": json.Number("12345678901234567890"), "p": map[string]any{"_placeholder": false}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Reconstruct = %#v\nwant %#v", got, want)
	}
	// Re-encoding restores the numbers exactly and the placeholders in order.
	data, atts, err := EncodeData(nil, got.([]any))
	if err != nil {
		t.Fatal(err)
	}
	if w := `["x",` + ph0 + `,{"big":12345678901234567890,"k":[` + ph1 + `],"n":1.50,"p":{"_placeholder":false}}]`; string(data) != w {
		t.Errorf("re-encoded %s\nwant %s", data, w)
	}
	if len(atts) != 2 || &atts[0][0] != &b[0] || &atts[1][0] != &a[0] {
		t.Errorf("re-encoded attachments %v", atts)
	}

	// A top-level placeholder, an escaped key, a placeholder's contents ignored.
	for in, want := range map[string]any{
		ph1:                                  b,
		`{"\u005fplaceholder":true,"num":0}`: a,
		`{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}`: a,
		`{"_placeholder":true,"num":"0","_placeholder":false}`:            map[string]any{"_placeholder": false, "num": "0"},
	} {
		if got, err := Reconstruct(raw(in), [][]byte{a, b}); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Reconstruct(%s) = %v, %v; want %v", in, got, err, want)
		}
	}

	for _, in := range []string{`{"_placeholder":true,"num":2}`, `[{"_placeholder":true}]`, `{"_placeholder":true,"num":"0"}`, `{"a":{"_placeholder":true,"num":0.5}}`} {
		if _, err := Reconstruct(raw(in), [][]byte{a, b}); !errors.Is(err, ErrBadAttachments) {
			t.Errorf("Reconstruct(%s): %v, want ErrBadAttachments", in, err)
		}
	}
	// Without attachments (a text packet) placeholders are plain objects.
	if got, err := Reconstruct(raw(`[`+ph1+`]`), nil); err != nil ||
		!reflect.DeepEqual(got, []any{map[string]any{"_placeholder": true, "num": json.Number("1")}}) {
		t.Errorf("placeholder without attachments: %#v, %v", got, err)
	}
	for _, in := range []string{``, `[`, `1 2`, `{"a":}`} {
		if _, err := Reconstruct(raw(in), nil); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("Reconstruct(%q): %v, want ErrInvalidPayload", in, err)
		}
	}
}

func TestValidJSONNesting(t *testing.T) {
	for _, n := range []int{1, 9999, 10000, 10001, 20000} {
		for _, pair := range []string{"[]", `{"":}`} {
			open := strings.Repeat(pair[:len(pair)-1], n)
			b := []byte(open + "1" + strings.Repeat(pair[len(pair)-1:], n))
			if pair == "[]" {
				b = []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
			}
			if got, want := validJSON(b), json.Valid(b); got != want {
				t.Errorf("depth %d %s: validJSON %v, json.Valid %v", n, pair[:1], got, want)
			}
		}
	}
}

// TestBareEventAndAck: like the reference, an EVENT or ACK without a
// payload decodes (with nil Data); the layer above ignores it.
func TestBareEventAndAck(t *testing.T) {
	// In `2/admin["a"]` the namespace swallows the payload: no comma ends it.
	for _, in := range []string{"2", "2/admin,", "212", "3", "31", `2/admin["a"]`} {
		var d Decoder
		p, err := d.Add([]byte(in), false)
		if err != nil || p == nil || p.Data != nil {
			t.Errorf("%q: got %+v, %v", in, p, err)
		}
	}
}
