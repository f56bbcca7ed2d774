package nats

import (
	"errors"
	"fmt"
	"strings"
)

// Subject tokens are escaped so that any namespace name or node uid is one
// valid token: '.', '*', '>', spaces and every other byte outside
// [A-Za-z0-9_-] become %XX (upper-case hex). The escape is canonical, so
// two names never share a token, and a token with a '%' that is not
// followed by two upper-case hex digits (such as the heartbeat suffix
// "%hb") is never an escaped name.

const emptyToken = "%" // the empty name: a subject token cannot be empty

const hexDigits = "0123456789ABCDEF"

// ErrBadToken is returned by UnescapeToken for a string EscapeToken never
// produces.
var ErrBadToken = errors.New("nats adapter: not an escaped subject token")

func keep(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// EscapeToken turns s into one NATS subject token, reversibly.
func EscapeToken(s string) string {
	if s == "" {
		return emptyToken
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !keep(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// UnescapeToken reverses EscapeToken; it refuses any other string, so
// that each name has exactly one token.
func UnescapeToken(t string) (string, error) {
	if t == emptyToken {
		return "", nil
	}
	if t == "" {
		return "", fmt.Errorf("%w: empty", ErrBadToken)
	}
	if !strings.Contains(t, "%") {
		for i := 0; i < len(t); i++ {
			if !keep(t[i]) {
				return "", fmt.Errorf("%w: byte 0x%02x at %d", ErrBadToken, t[i], i)
			}
		}
		return t, nil
	}
	b := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		c := t[i]
		if keep(c) {
			b = append(b, c)
			continue
		}
		if c != '%' || i+2 >= len(t) {
			return "", fmt.Errorf("%w: byte 0x%02x at %d", ErrBadToken, c, i)
		}
		hi, ok1 := unhex(t[i+1])
		lo, ok2 := unhex(t[i+2])
		v := hi<<4 | lo
		if !ok1 || !ok2 || keep(v) {
			return "", fmt.Errorf("%w: escape at %d", ErrBadToken, i)
		}
		b = append(b, v)
		i += 2
	}
	return string(b), nil
}

// hbToken ends the heartbeat subject of a namespace; never an escaped uid.
const hbToken = "%hb"

// subjects are the subjects of one namespace under a prefix.
type subjects struct {
	nsp       string // prefix.N: messages to every node
	heartbeat string // prefix.N.%hb
}

func newSubjects(prefix, nsp string) subjects {
	s := prefix + "." + EscapeToken(nsp)
	return subjects{nsp: s, heartbeat: s + "." + hbToken}
}

// response is the subject of node uid's responses.
func (s subjects) response(uid string) string { return s.nsp + "." + EscapeToken(uid) }

// checkPrefix refuses a prefix that is not a literal subject.
func checkPrefix(p string) error {
	if p == "" {
		return errors.New("nats adapter: empty prefix")
	}
	for _, tok := range strings.Split(p, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
			return fmt.Errorf("nats adapter: prefix %q is not a literal subject", p)
		}
	}
	return nil
}
