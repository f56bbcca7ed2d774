package chat

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Limits on what clients may choose.
const (
	MaxNameLength = 24
	MaxRoomLength = 32
)

// cleanName trims a nickname, folds runs of spaces and drops control and
// format characters (they could make two names look the same); it returns
// "" when nothing is left.
func cleanName(s string) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range strings.TrimSpace(s) {
		if n == MaxNameLength {
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(blank, r), r == utf8.RuneError:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	// Only marks or variation selectors: nothing anyone could read.
	if k, _ := nameKeys(b.String()); k == "" {
		return ""
	}
	return b.String()
}

// blank holds the characters that draw nothing yet are letters or
// symbols, so unicode.IsSpace and the Cf category miss them: Hangul
// fillers and the blank Braille pattern, the usual "invisible name".
var blank = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x115f, Hi: 0x1160, Stride: 1},
	{Lo: 0x2800, Hi: 0x2800, Stride: 1},
	{Lo: 0x3164, Hi: 0x3164, Stride: 1},
	{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
}}

// ignored in a comparison key, with blank and the format characters
// (zero-width space and the like): the general-purpose combining marks (a
// name with an accent, a strike-through or a dot above looks like the
// name without), the combining grapheme joiner and the variation
// selectors. Script-specific marks (Devanagari vowels, Hebrew points...)
// are kept: there they make different words.
var ignored = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x0300, Hi: 0x036f, Stride: 1},
		{Lo: 0x1ab0, Hi: 0x1aff, Stride: 1},
		{Lo: 0x1dc0, Hi: 0x1dff, Stride: 1},
		{Lo: 0x20d0, Hi: 0x20ff, Stride: 1},
		{Lo: 0xfe00, Hi: 0xfe0f, Stride: 1},
		{Lo: 0xfe20, Hi: 0xfe2f, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0xe0100, Hi: 0xe01ef, Stride: 1},
	},
}

// nameKeys returns the two comparison keys of a nickname: two names are
// the same if they share a key. The display name stays as typed; only
// the keys fold: Unicode NFKC (full-width and styled letters become
// plain), case folding, the confusable skeleton of UTS #39 (Cyrillic "а"
// is Latin "a", "0" is "O", "rn" is "m") and the marks in ignored.
//
// The skeleton is case-sensitive (it maps capital I to l, 0 to capital O)
// so folding case before it misses "AIice" for "alice", and after it
// loses "ALICE" for "alice": the two keys are both orders.
func nameKeys(name string) (string, string) {
	n := norm.NFKC.String(name)
	return stripIgnored(confusables.Skeleton(cases.Fold().String(n))),
		stripIgnored(cases.Fold().String(confusables.Skeleton(n)))
}

func stripIgnored(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(ignored, r) || unicode.Is(blank, r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, norm.NFD.String(s))
}

// names is a set of nicknames in use, by comparison key.
type names map[string]bool

func (ns names) add(name string) {
	a, b := nameKeys(name)
	ns[a], ns[b] = true, true
}

func (ns names) has(name string) bool {
	a, b := nameKeys(name)
	return ns[a] || ns[b]
}

// sameName reports whether two nicknames compare equal (look alike).
func sameName(x, y string) bool {
	xa, xb := nameKeys(x)
	ya, yb := nameKeys(y)
	return xa == ya || xa == yb || xb == ya || xb == yb
}

// cleanRoom makes a room name: lower case letters, digits, '-' and '_',
// other characters turned into '-'. "" when nothing is left.
func cleanRoom(s string) string {
	var b strings.Builder
	n := 0
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if n == MaxRoomLength {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
				n++
			}
			dash = false
			b.WriteRune(r)
			n++
			continue
		}
		dash = true
	}
	return b.String()
}

// uniqueName returns want, or want with the smallest suffix " 2", " 3"...
// that no one in taken uses: a name that looks like one in use gets a
// suffix as the same name does.
// nameSet says whether a name is taken.
type nameSet interface{ has(name string) bool }

// takenFunc is a nameSet that asks.
type takenFunc func(name string) bool

func (f takenFunc) has(name string) bool { return f(name) }

// nameRooms are the adapter rooms of the sockets named name (one per
// comparison key), so that whether a name is taken is one small question
// to the cluster.
func nameRooms(name string) []string {
	a, b := nameKeys(name)
	if a == b {
		return []string{"chat-name:" + a}
	}
	return []string{"chat-name:" + a, "chat-name:" + b}
}

// clientRoom is the adapter room of the sockets of one page (clientId).
func clientRoom(id string) string { return "chat-page:" + id }

func uniqueName(want string, taken nameSet) string {
	if !taken.has(want) {
		return want
	}
	for i := 2; ; i++ {
		suffix := " " + strconv.Itoa(i)
		base := want
		for utf8.RuneCountInString(base)+len(suffix) > MaxNameLength {
			_, size := utf8.DecodeLastRuneInString(base)
			base = base[:len(base)-size]
		}
		if name := base + suffix; !taken.has(name) {
			return name
		}
	}
}

// roomKey is the adapter room of a chat room. The prefix keeps chat rooms
// apart from the room every socket has under its own id: a user who picked
// another's socket id as a room name would otherwise receive their
// private messages.
func roomKey(room string) string { return "chat:" + room }
