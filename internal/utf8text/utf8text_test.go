package utf8text

import "testing"

// The cases against Node.js, and the fuzzing against an independent
// decoder, are in engineio/packet, whose polling decode uses Repair.
func TestRepair(t *testing.T) {
	valid := []byte("h€llo 😀")
	if got := Repair(valid); &got[0] != &valid[0] || len(got) != len(valid) {
		t.Error("valid text was copied")
	}
	for in, want := range map[string]string{
		"a\xffb":           "a\ufffdb",
		"\xe2\x82":         "\ufffd",
		"\xed\xa0\x80":     "\ufffd\ufffd\ufffd",
		"\xf0\x9f\x98!":    "\ufffd!",
		"\xc0\xaf\x80\x80": "\ufffd\ufffd\ufffd\ufffd",
	} {
		got := Repair([]byte(in))
		if string(got) != want {
			t.Errorf("Repair(%q) = %+q, want %+q", in, got, want)
		}
		if cap(got) != len(got) {
			t.Errorf("Repair(%q): capacity %d not capped at %d", in, cap(got), len(got))
		}
	}
}
