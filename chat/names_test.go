package chat

import (
	"strings"
	"testing"
	"time"
)

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"  alice  ":             "alice",
		"bob \t\n  smith":       "bob smith",
		"eve\u200b\u202e":       "eve",
		"\x00\x07":              "",
		strings.Repeat("x", 40): strings.Repeat("x", MaxNameLength),
		"<b>zoë</b>":            "<b>zoë</b>", // shown as text, so kept as typed
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanRoom(t *testing.T) {
	for in, want := range map[string]string{
		"Release Team":  "release-team",
		"  --hi!!  ":    "hi",
		"café_2":        "café_2",
		"!!!":           "",
		"a/../b":        "a-b",
		"<script>x":     "script-x",
		"Ünïcode Rööm ": "ünïcode-rööm",
	} {
		if got := cleanRoom(in); got != want {
			t.Errorf("cleanRoom(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	taken := map[string]bool{"alice": true, "alice 2": true}
	if got := uniqueName("Alice", taken); got != "Alice 3" {
		t.Errorf("uniqueName = %q, want Alice 3 (case-insensitive)", got)
	}
	if got := uniqueName("bob", taken); got != "bob" {
		t.Errorf("uniqueName = %q, want bob", got)
	}
	long := strings.Repeat("n", MaxNameLength)
	got := uniqueName(long, map[string]bool{long: true})
	if len([]rune(got)) > MaxNameLength || !strings.HasSuffix(got, " 2") {
		t.Errorf("uniqueName(long) = %q: too long or no suffix", got)
	}
}

func TestRoomKeyCannotBeASocketID(t *testing.T) {
	// Socket ids are base64url: no ':'; a room key always has one.
	if k := roomKey("abc"); !strings.Contains(k, ":") {
		t.Fatalf("roomKey = %q", k)
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(2, time.Second)
	t0 := time.Unix(0, 0)
	for i := 0; i < 2; i++ {
		if !l.allow(t0) {
			t.Fatalf("burst refused at %d", i)
		}
	}
	if l.allow(t0.Add(100 * time.Millisecond)) {
		t.Fatal("third at once allowed")
	}
	if !l.allow(t0.Add(1200 * time.Millisecond)) {
		t.Fatal("refill not honoured")
	}
}
