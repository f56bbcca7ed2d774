package load

import (
	"bytes"
	"testing"
)

func TestParseFrameLengths(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 300, 65535, 65536, 70000} {
		f := serverFrame(true, opText, bytes.Repeat([]byte{'a'}, n))
		fin, op, p, size, err := parseFrame(f)
		if err != nil || !fin || op != opText || len(p) != n || size != len(f) {
			t.Fatalf("n=%d: fin=%v op=%d len=%d size=%d/%d err=%v", n, fin, op, len(p), size, len(f), err)
		}
		// Every strict prefix is incomplete, never an error.
		for _, cut := range []int{0, 1, 2, 3, 9, len(f) - 1} {
			if cut < 0 || cut >= len(f) {
				continue
			}
			if _, _, _, size, err := parseFrame(f[:cut]); size != 0 || err != nil {
				t.Fatalf("n=%d cut=%d: size=%d err=%v", n, cut, size, err)
			}
		}
	}
}

func TestParseFrameBackToBack(t *testing.T) {
	b := append(serverFrame(true, opText, []byte("42[1]")), serverFrame(false, opBinary, []byte{1, 2})...)
	_, _, p, size, _ := parseFrame(b)
	if string(p) != "42[1]" {
		t.Fatalf("first: %q", p)
	}
	fin, op, p, _, _ := parseFrame(b[size:])
	if fin || op != opBinary || !bytes.Equal(p, []byte{1, 2}) {
		t.Fatalf("second: fin=%v op=%d %v", fin, op, p)
	}
}

func TestParseFrameRejects(t *testing.T) {
	if _, _, _, _, err := parseFrame([]byte{0x81, 0x85, 1, 2, 3, 4, 'h'}); err == nil {
		t.Fatal("masked server frame accepted")
	}
	huge := []byte{0x82, 127, 0, 0, 0, 0, 0x7f, 0, 0, 0}
	if _, _, _, _, err := parseFrame(huge); err == nil {
		t.Fatal("oversized frame accepted")
	}
}
