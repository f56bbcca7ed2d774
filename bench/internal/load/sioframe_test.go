package load

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"
)

func TestAppendEvent(t *testing.T) {
	got := string(appendEvent(nil, "echo", 12, stringArg("hi")))
	if want := `4212["echo","hi"]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	got = string(appendEvent(nil, "broadcast_room", -1, stringArg("r"), []byte(`{"a":1}`)))
	if want := `42["broadcast_room","r",{"a":1}]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestParseMessage(t *testing.T) {
	for _, c := range []struct {
		in    string
		typ   byte
		id    int64
		data  string
		other byte
	}{
		{`4312["hi"]`, sioAck, 12, `["hi"]`, 0},
		{`40{"sid":"abc"}`, sioConnect, -1, `{"sid":"abc"}`, 0},
		{`42["broadcast","1:2:x"]`, sioEvent, -1, `["broadcast","1:2:x"]`, 0},
		{`43/admin,7["x"]`, sioAck, 7, `["x"]`, 0},
		{`2`, 0, -1, ``, eioPing},
		{`1`, 0, -1, ``, eioClose},
	} {
		p, err := parseMessage([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if p.typ != c.typ || p.id != c.id || string(p.data) != c.data || p.other != c.other {
			t.Errorf("%s: got %+v (data %s)", c.in, p, p.data)
		}
	}
	if _, err := parseMessage(nil); err == nil {
		t.Error("empty message accepted")
	}
}

func TestParseOpen(t *testing.T) {
	o, err := parseOpen([]byte(`0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	if err != nil || o.SID != "s1" || o.PingInterval != 25000 {
		t.Fatalf("%+v %v", o, err)
	}
	if _, err := parseOpen([]byte(`40`)); err == nil {
		t.Fatal("non-open packet accepted")
	}
}

func TestStampRoundTrip(t *testing.T) {
	arg := stampArg(nil, 42, 1234567890123, 64)
	if len(arg) != 64 {
		t.Fatalf("stamp is %d bytes, want 64: %s", len(arg), arg)
	}
	msg := appendEvent(nil, "broadcast", -1, arg)
	p, _ := parseMessage(msg)
	seq, ns, ok := parseStamp(p.data)
	if !ok || seq != 42 || ns != 1234567890123 {
		t.Fatalf("parseStamp(%s) = %d %d %v", p.data, seq, ns, ok)
	}
	if _, _, ok := parseStamp([]byte(`["other","1:2:"]`)); ok {
		t.Fatal("other event accepted")
	}
	// A payload smaller than the stamp is not padded, still parses.
	if _, _, ok := parseStamp(appendEvent(nil, "broadcast", -1, stampArg(nil, 1, 2, 1))[2:]); !ok {
		t.Fatal("short stamp did not parse")
	}
}

// serverFrame builds an unmasked frame as a server sends it.
func serverFrame(fin bool, op byte, payload []byte) []byte {
	b := op
	if fin {
		b |= 0x80
	}
	out := []byte{b}
	switch n := len(payload); {
	case n < 126:
		out = append(out, byte(n))
	case n <= 0xffff:
		out = append(out, 126, byte(n>>8), byte(n))
	default:
		out = append(out, 127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	return append(out, payload...)
}

func TestFrameRoundTrip(t *testing.T) {
	payload := bytes.Repeat([]byte("abc"), 100) // 300 bytes: 16-bit length
	f := appendFrame(nil, opText, payload, 0x01020304)
	if f[0] != 0x81 || f[1] != 0x80|126 || int(f[2])<<8|int(f[3]) != 300 {
		t.Fatalf("bad header % x", f[:4])
	}
	key := f[4:8]
	for i, b := range f[8:] {
		if b^key[i&3] != payload[i] {
			t.Fatalf("byte %d not masked right", i)
		}
	}
}

func TestReadMessageFragmentsAndControl(t *testing.T) {
	var in []byte
	in = append(in, serverFrame(true, opText, []byte("42[1]"))...)
	in = append(in, serverFrame(false, opText, []byte("hel"))...)
	in = append(in, serverFrame(true, opPing, []byte("p"))...) // between fragments
	in = append(in, serverFrame(true, opContinuation, []byte("lo"))...)
	in = append(in, serverFrame(true, opBinary, bytes.Repeat([]byte{7}, 70000))...)
	in = append(in, serverFrame(true, opClose, []byte{3, 232})...)
	r := frameReader{br: bufio.NewReaderSize(bytes.NewReader(in), 4096)}
	pings := 0
	onPing := func(p []byte) error { pings++; return nil }
	for _, want := range []string{"42[1]", "hello"} {
		op, msg, err := r.readMessage(onPing)
		if err != nil || op != opText || string(msg) != want {
			t.Fatalf("got %d %q %v, want %q", op, msg, err, want)
		}
	}
	op, msg, err := r.readMessage(onPing)
	if err != nil || op != opBinary || len(msg) != 70000 {
		t.Fatalf("binary: %d %d %v", op, len(msg), err)
	}
	if _, _, err := r.readMessage(onPing); err != errServerClosed {
		t.Fatalf("close: %v", err)
	}
	if pings != 1 {
		t.Fatalf("%d pings seen, want 1", pings)
	}
}
