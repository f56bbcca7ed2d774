package chat

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
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
	return b.String()
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
// that no one in taken uses (compared without case).
func uniqueName(want string, taken map[string]bool) string {
	if !taken[strings.ToLower(want)] {
		return want
	}
	for i := 2; ; i++ {
		suffix := " " + strconv.Itoa(i)
		base := want
		for utf8.RuneCountInString(base)+len(suffix) > MaxNameLength {
			_, size := utf8.DecodeLastRuneInString(base)
			base = base[:len(base)-size]
		}
		if name := base + suffix; !taken[strings.ToLower(name)] {
			return name
		}
	}
}

// roomKey is the adapter room of a chat room. The prefix keeps chat rooms
// apart from the room every socket has under its own id: a user who picked
// another's socket id as a room name would otherwise receive their
// private messages.
func roomKey(room string) string { return "chat:" + room }
