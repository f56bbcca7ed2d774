package ws

import "unicode/utf8"

// utf8Validator checks a text message chunk by chunk as it arrives, so an
// invalid message is rejected at its first bad byte, not at its end (RFC
// 6455 8.1, "fail fast"). A sequence cut by a chunk or frame boundary is
// kept (at most 3 bytes) and checked byte by byte as it completes: its
// bytes so far must already be the start of a valid sequence.
type utf8Validator struct {
	pend [4]byte
	n    int
}

// write reports whether the text seen so far can still be valid UTF-8.
func (v *utf8Validator) write(p []byte) bool {
	for v.n > 0 && len(p) > 0 {
		v.pend[v.n] = p[0]
		v.n++
		p = p[1:]
		if !validPrefix(v.pend[:v.n]) {
			return false
		}
		if v.n == seqLen(v.pend[0]) {
			v.n = 0
		}
	}
	if len(p) == 0 {
		return true
	}
	// Find where a sequence cut by the end of p starts, if one is.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		b := p[i]
		if b < 0x80 {
			break
		}
		if b >= 0xC0 {
			if i+seqLen(b) > len(p) {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(p[:cut]) {
		return false
	}
	if cut < len(p) {
		if !validPrefix(p[cut:]) {
			return false
		}
		v.n = copy(v.pend[:], p[cut:])
	}
	return true
}

// done reports whether the message ended on a whole sequence.
func (v *utf8Validator) done() bool { return v.n == 0 }

// seqLen is the length of the sequence a lead byte starts; 1 for a byte
// that cannot lead one (validPrefix then rejects it).
func seqLen(b byte) int {
	switch {
	case b >= 0xC2 && b <= 0xDF:
		return 2
	case b >= 0xE0 && b <= 0xEF:
		return 3
	case b >= 0xF0 && b <= 0xF4:
		return 4
	}
	return 1
}

// validPrefix reports whether s (1 to 4 bytes, starting with a non-ASCII
// byte) is the start of a valid multi-byte sequence. The second byte's
// range depends on the lead, which rules out overlong forms, surrogates
// (U+D800-DFFF) and code points past U+10FFFF (Unicode table 3-7).
func validPrefix(s []byte) bool {
	n := seqLen(s[0])
	if n == 1 || len(s) > n {
		return false
	}
	if len(s) > 1 {
		lo, hi := byte(0x80), byte(0xBF)
		switch s[0] {
		case 0xE0:
			lo = 0xA0
		case 0xED:
			hi = 0x9F
		case 0xF0:
			lo = 0x90
		case 0xF4:
			hi = 0x8F
		}
		if s[1] < lo || s[1] > hi {
			return false
		}
	}
	for _, b := range s[min(len(s), 2):] {
		if b < 0x80 || b > 0xBF {
			return false
		}
	}
	return true
}
