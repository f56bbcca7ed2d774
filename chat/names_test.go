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
	taken := names{}
	taken.add("alice")
	taken.add("alice 2")
	if got := uniqueName("Alice", taken); got != "Alice 3" {
		t.Errorf("uniqueName = %q, want Alice 3 (case-insensitive)", got)
	}
	if got := uniqueName("bob", taken); got != "bob" {
		t.Errorf("uniqueName = %q, want bob", got)
	}
	long := strings.Repeat("n", MaxNameLength)
	taken.add(long)
	got := uniqueName(long, taken)
	if len([]rune(got)) > MaxNameLength || !strings.HasSuffix(got, " 2") {
		t.Errorf("uniqueName(long) = %q: too long or no suffix", got)
	}
}

// Look-alikes of a name in use get a suffix, as the same name does; the
// name shown stays as typed.
func TestLookAlikeNames(t *testing.T) {
	taken := names{}
	taken.add("alice")
	taken.add("bob")
	taken.add("Paypal")
	for _, lookAlike := range []string{
		"\u0430lice",        // Cyrillic a
		"ALICE",             // case
		"AIice",             // capital I for l
		"ａｌｉｃｅ",             // full-width
		"𝒶𝓁𝒾𝒸ℯ",             // mathematical script
		"a\u0301lice",       // combining acute
		"álice",             // precomposed
		"al\u0336ice",       // combining stroke
		"alice\u0307\u0307", // dots above
		"ali\u034fce",       // combining grapheme joiner
		"alice\ufe0f",       // variation selector
		"b0b", "B0B", "ḃob", // zero for o, dot above
		"\u0440\u0430ypal", // Cyrillic er and a
		"p\u0430yp\u0430l", // Cyrillic a twice
		"Pay\u200bpal",     // zero width space (cleanName drops it too)
	} {
		if !taken.has(lookAlike) {
			t.Errorf("%q (%+q) is not seen as taken", lookAlike, lookAlike)
		}
		if got := uniqueName(lookAlike, taken); got != lookAlike+" 2" {
			t.Errorf("uniqueName(%q) = %q, want %q", lookAlike, got, lookAlike+" 2")
		}
	}
	for _, distinct := range []string{"alicia", "alice2", "rob", "bobby", "Zoë", "李雷", "अनिल", "अनील", "Ἀλίκη"} {
		if taken.has(distinct) {
			t.Errorf("%q is seen as taken", distinct)
		}
	}
	if !sameName("Zoë", "zoe") || sameName("अनिल", "अनील") {
		t.Error("sameName: Latin diacritics should fold, Devanagari vowel signs not")
	}
}

func TestInvisibleNamesAreEmpty(t *testing.T) {
	for _, in := range []string{"\u3164", "\u2800\u2800", "\u0301\u0301", "\ufe0f", "\u115f\u1160", " \u200b "} {
		if got := cleanName(in); got != "" {
			t.Errorf("cleanName(%+q) = %+q, want empty (nothing visible)", in, got)
		}
	}
	if got := cleanName("a\u3164b"); got != "ab" {
		t.Errorf("cleanName = %+q", got)
	}
}

func TestRoomKeyCannotBeASocketID(t *testing.T) {
	// Socket ids are base64url: no ':'; a room key always has one.
	if k := roomKey("abc"); !strings.Contains(k, ":") {
		t.Fatalf("roomKey = %q", k)
	}
}

func TestBucket(t *testing.T) {
	r := rate{2, time.Second}
	var b bucket
	t0 := time.Unix(0, 0)
	for i := 0; i < 2; i++ {
		if !b.refill(r, t0) {
			t.Fatalf("burst refused at %d", i)
		}
		b.tokens--
	}
	if b.refill(r, t0.Add(100*time.Millisecond)) {
		t.Fatal("third at once allowed")
	}
	if !b.refill(r, t0.Add(1200*time.Millisecond)) {
		t.Fatal("refill not honoured")
	}
}
