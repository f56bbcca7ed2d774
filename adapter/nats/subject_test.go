package nats

import (
	"strings"
	"testing"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/internal/notepack"
)

func TestEscapeToken(t *testing.T) {
	for in, want := range map[string]string{
		"":       "%",
		"/":      "%2F",
		"/chat":  "%2Fchat",
		"a.b":    "a%2Eb",
		"*":      "%2A",
		">":      "%3E",
		"a b\t":  "a%20b%09",
		"%":      "%25",
		"%hb":    "%25hb",
		"ü":      "%C3%BC",
		"Ab_-09": "Ab_-09",
	} {
		if got := EscapeToken(in); got != want {
			t.Errorf("EscapeToken(%q) = %q, want %q", in, got, want)
		}
		if back, err := UnescapeToken(want); err != nil || back != in {
			t.Errorf("UnescapeToken(%q) = %q, %v", want, back, err)
		}
	}
	for _, bad := range []string{"", "a.b", "%2f", "%41", "%2", "%G0", "a b", "%hb", "*", ">", "%%"} {
		if got, err := UnescapeToken(bad); err == nil {
			t.Errorf("UnescapeToken(%q) = %q, want an error", bad, got)
		}
	}
	if newSubjects("p", "x").response("%hb") == newSubjects("p", "x").heartbeat {
		t.Error("a uid took the heartbeat subject")
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"socket.io", "a", "a-b.c_d"} {
		if err := checkPrefix(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"", ".", "a.", ".a", "a..b", "a.*", ">", "a b"} {
		if checkPrefix(p) == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

// FuzzEscapeToken: every string escapes to one valid subject token that
// unescapes back to it; a token that unescapes escapes back to itself (one
// token per name, so two names never share a subject).
func FuzzEscapeToken(f *testing.F) {
	for _, s := range []string{"", "/", "/chat", "a.b", "*", ">", " ", "%", "%2F", "%hb", "ü", "\x00", "a.>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := EscapeToken(s)
		if tok == "" || strings.ContainsAny(tok, ". \t\r\n") || tok == "*" || tok == ">" {
			t.Fatalf("EscapeToken(%q) = %q: not a token", s, tok)
		}
		back, err := UnescapeToken(tok)
		if err != nil || back != s {
			t.Fatalf("UnescapeToken(EscapeToken(%q)) = %q, %v", s, back, err)
		}
		if u, err := UnescapeToken(s); err == nil && EscapeToken(u) != s {
			t.Fatalf("UnescapeToken(%q) = %q, which escapes to %q", s, u, EscapeToken(u))
		}
	})
}

// FuzzDecodeMessage: any bytes decode to a message or an error, never a
// panic; a message decoded encodes and decodes to the same.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range []*cluster.Message{
		{UID: "u", NSP: "/", Type: cluster.Broadcast, Data: notepack.Map{{Key: "packet", Value: notepack.Map{{Key: "data", Value: []any{"ev", 1.5, []byte{1}}}}}}},
		{UID: "u", NSP: "/a.b", Type: cluster.Heartbeat},
	} {
		b, err := encodeMessage(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xc1})
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		again, err := encodeMessage(m)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", m, err)
		}
		m2, err := decodeMessage(again)
		if err != nil || m2.UID != m.UID || m2.NSP != m.NSP || m2.Type != m.Type {
			t.Fatalf("round trip: %+v, %+v, %v", m, m2, err)
		}
	})
}

// FuzzDecodeSession: a session in the bucket decodes or fails, never
// panics.
func FuzzDecodeSession(f *testing.F) {
	f.Add([]byte{0x80})
	f.Add(mustMarshalF(f, notepack.Map{{Key: "sid", Value: "s"}, {Key: "pid", Value: "p"}, {Key: "rooms", Value: []any{"r", 1}}, {Key: "data", Value: notepack.Map{{Key: "x", Value: notepack.Undefined}}}, {Key: "exp", Value: 1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = decodeSession(b)
	})
}

func mustMarshalF(f *testing.F, v any) []byte {
	b, err := notepack.Marshal(v)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
