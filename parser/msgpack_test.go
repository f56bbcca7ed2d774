package parser

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// msgpackVector is one packet of testdata/msgpack-vectors.json, written
// by test/interop/gen-msgpack-vectors.mjs with the real
// socket.io-msgpack-parser: its bytes, and the packet as sockio keeps it.
type msgpackVector struct {
	Name        string   `json:"name"`
	Hex         string   `json:"hex"`
	Type        Type     `json:"type"`
	Nsp         string   `json:"nsp"`
	ID          *uint64  `json:"id"`
	JSON        *string  `json:"json"`
	Attachments []string `json:"attachments"`
}

func loadMsgpackVectors(t testing.TB) (canonical, decodeOnly, invalid []msgpackVector) {
	t.Helper()
	b, err := os.ReadFile("testdata/msgpack-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Canonical, DecodeOnly, Invalid []msgpackVector }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Canonical) == 0 || len(v.DecodeOnly) == 0 || len(v.Invalid) == 0 {
		t.Fatal("empty vector file")
	}
	return v.Canonical, v.DecodeOnly, v.Invalid
}

func (v *msgpackVector) packet(t *testing.T) *Packet {
	p := &Packet{Type: v.Type, Namespace: v.Nsp}
	if v.ID != nil {
		p.ID, p.HasID = *v.ID, true
	}
	if v.JSON != nil {
		p.Data = json.RawMessage(*v.JSON)
	}
	for _, a := range v.Attachments {
		b, err := hex.DecodeString(a)
		if err != nil {
			t.Fatal(err)
		}
		p.Attachments = append(p.Attachments, b)
	}
	return p
}

func unhexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Node's bytes decode to the packet socket.io-parser would give for the
// same values: same type (binary when there are attachments), namespace,
// id, JSON (keys in order, numbers as JSON.stringify writes them) and
// attachments.
func TestMsgpackVectorsDecode(t *testing.T) {
	canonical, decodeOnly, _ := loadMsgpackVectors(t)
	for _, v := range append(canonical, decodeOnly...) {
		t.Run(v.Name, func(t *testing.T) {
			var d MsgpackDecoder
			got, err := d.Add(unhexT(t, v.Hex), true)
			if err != nil {
				t.Fatal(err)
			}
			want := v.packet(t)
			if got.Type != want.Type || got.Namespace != want.Namespace || got.HasID != want.HasID || got.ID != want.ID {
				t.Errorf("got %v %q id %v/%d, want %v %q id %v/%d", got.Type, got.Namespace, got.HasID, got.ID,
					want.Type, want.Namespace, want.HasID, want.ID)
			}
			if !bytes.Equal(got.Data, want.Data) || (got.Data == nil) != (want.Data == nil) {
				t.Errorf("data %s, want %s", got.Data, want.Data)
			}
			if len(got.Attachments) != len(want.Attachments) {
				t.Fatalf("%d attachments, want %d", len(got.Attachments), len(want.Attachments))
			}
			for i := range got.Attachments {
				if !bytes.Equal(got.Attachments[i], want.Attachments[i]) {
					t.Errorf("attachment %d: %x, want %x", i, got.Attachments[i], want.Attachments[i])
				}
			}
		})
	}
}

// sockio writes the canonical packets byte for byte as Node does.
func TestMsgpackVectorsEncode(t *testing.T) {
	canonical, _, _ := loadMsgpackVectors(t)
	for _, v := range canonical {
		t.Run(v.Name, func(t *testing.T) {
			msgs, err := Msgpack.Encode(v.packet(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 || !msgs[0].Binary {
				t.Fatalf("%d messages, want one binary", len(msgs))
			}
			if got := hex.EncodeToString(msgs[0].Data); got != v.Hex {
				t.Errorf("got  %s\nwant %s", got, v.Hex)
			}
		})
	}
}

// Whatever the reference decoder throws on, ours refuses.
func TestMsgpackVectorsInvalid(t *testing.T) {
	_, _, invalid := loadMsgpackVectors(t)
	for _, v := range invalid {
		t.Run(v.Name, func(t *testing.T) {
			var d MsgpackDecoder
			if p, err := d.Add(unhexT(t, v.Hex), true); err == nil {
				t.Errorf("accepted: %+v", p)
			}
		})
	}
}

// Refusals beyond the reference's, for what sockio's representation or
// its default format refuses too.
func TestMsgpackDecodeRefusals(t *testing.T) {
	enc := func(p *Packet) []byte {
		b, err := AppendMsgpack(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name   string
		msg    []byte
		binary bool
		want   error
	}{
		{"text message", enc(&Packet{Type: Event, Data: json.RawMessage(`["e"]`)}), false, ErrUnexpectedText},
		{"reserved event", enc(&Packet{Type: Event, Data: json.RawMessage(`["disconnect"]`)}), true, ErrReservedEvent},
		{"empty event", enc(&Packet{Type: Event, Data: json.RawMessage(`[]`)}), true, ErrInvalidPayload},
		{"event name object", enc(&Packet{Type: Event, Data: json.RawMessage(`[{}]`)}), true, ErrInvalidPayload},
		// {type:2,nsp:"/",data:["e"],id:-1}
		{"negative id", []byte("\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa1e\xa2id\xff"), true, ErrBadID},
		// nsp "\xff"
		{"namespace not UTF-8", []byte("\x83\xa4type\x02\xa3nsp\xa1\xff\xa4data\x91\xa1e"), true, ErrBadNamespace},
		// ["e", bin, {"_placeholder":true,"num":1}]: a fake placeholder out of range.
		{"placeholder out of range", []byte("\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x93\xa1e\xc4\x01\x01\x82\xac_placeholder\xc3\xa3num\x01"), true, ErrBadAttachments},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d MsgpackDecoder
			if _, err := d.Add(c.msg, c.binary); !errors.Is(err, c.want) {
				t.Errorf("err %v, want %v", err, c.want)
			}
		})
	}
}

// Bin values in CONNECT and CONNECT_ERROR data take a Buffer's JSON form:
// those packets have no attachments in sockio's representation.
func TestMsgpackConnectBinary(t *testing.T) {
	// {type:0,nsp:"/",data:{b:<01>}}
	msg := []byte("\x83\xa4type\x00\xa3nsp\xa1/\xa4data\x81\xa1b\xc4\x01\x01")
	var d MsgpackDecoder
	p, err := d.Add(msg, true)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Data) != `{"b":{"type":"Buffer","data":[1]}}` || len(p.Attachments) != 0 {
		t.Errorf("data %s, %d attachments", p.Data, len(p.Attachments))
	}
}

// Packets built by the rest of sockio (EncodeData) survive the round
// trip through the format.
func TestMsgpackRoundTrip(t *testing.T) {
	args := []any{"ev", []byte{1, 2}, map[string]any{"x": []any{[]byte{}, 1.25, "s"}, "n": nil}, -7, uint64(1) << 40}
	data, atts, err := EncodeData(nil, args)
	if err != nil {
		t.Fatal(err)
	}
	in := &Packet{Type: BinaryEvent, Namespace: "/a", ID: 12, HasID: true, Data: data, Attachments: atts}
	msgs, err := Msgpack.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Msgpack.NewDecoder(0).Add(msgs[0].Data, true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Type != in.Type || out.Namespace != in.Namespace || out.ID != in.ID || !out.HasID ||
		!bytes.Equal(out.Data, in.Data) || len(out.Attachments) != 2 {
		t.Errorf("got %+v\nfrom %+v", out, in)
	}
	// Types the format has no number for are refused, not mangled.
	if _, err := Msgpack.Encode(&Packet{Type: 9}); !errors.Is(err, ErrUnknownType) {
		t.Errorf("type 9: %v", err)
	}
	// The default codec writes what AppendText does.
	msgs, _ = Default.Encode(in)
	if len(msgs) != 3 || msgs[0].Binary || !msgs[1].Binary || string(msgs[0].Data) != string(AppendText(nil, in)) {
		t.Errorf("default codec: %v", msgs)
	}
}
