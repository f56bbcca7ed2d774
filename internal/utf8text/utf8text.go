// Package utf8text turns bytes that should be UTF-8 text into valid UTF-8
// the way the Socket.IO reference (Node.js) and browsers do, so that what
// sockio reads and sends matches them byte for byte.
package utf8text

import "unicode/utf8"

// replacement is U+FFFD REPLACEMENT CHARACTER in UTF-8.
const replacement = "\uFFFD"

// Repair returns b itself when it is valid UTF-8, and otherwise a new
// slice (capacity capped) in which each maximal ill-formed subsequence is
// replaced by one U+FFFD: the WHATWG Encoding Standard's UTF-8 decode, which
// is what Node.js applies to a polling POST body (req.setEncoding("utf8"))
// and a browser to a polling response, so the text matches the reference
// rune for rune. strings.ToValidUTF8 differs: it replaces a whole run of
// bad bytes with a single U+FFFD.
func Repair(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+2*len(replacement))
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
			out = append(out, b[i:i+size]...)
			i += size
			continue
		}
		out = append(out, replacement...)
		i += illFormedLen(b[i:])
	}
	return out[:len(out):len(out)]
}

// illFormedLen is the length of the maximal ill-formed subsequence at the
// start of b, which must not begin with a well-formed sequence: the longest
// prefix of a well-formed sequence found there, or 1 (Unicode 15, 3.9,
// "U+FFFD Substitution of Maximal Subparts"; table 3-7 gives the ranges).
func illFormedLen(b []byte) int {
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0 // no overlong forms
	case c == 0xED:
		need, hi = 2, 0x9F // no surrogates
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90 // no overlong forms
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F // nothing above U+10FFFF
	default:
		return 1 // a continuation byte, C0, C1 or F5..FF
	}
	n := 1
	for n <= need && n < len(b) && b[n] >= lo && b[n] <= hi {
		n++
		lo, hi = 0x80, 0xBF // only the second byte has a narrower range
	}
	return n
}
