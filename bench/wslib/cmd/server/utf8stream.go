package main

import (
	"errors"
	"io"
	"unicode/utf8"
)

var errInvalidUTF8 = errors.New("invalid UTF-8 in text message")

// utf8Stream validates UTF-8 incrementally as a message is read, so an
// invalid sequence fails the read as soon as the frame carrying it arrives
// (Autobahn 6.4.x "fail fast"), not only at the end of the message. A code
// point split across reads/frames is carried over.
type utf8Stream struct {
	r     io.Reader
	carry []byte // bytes of an incomplete trailing code point (< 4)
}

func (v *utf8Stream) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if !v.check(p[:n]) {
		return n, errInvalidUTF8
	}
	if err == io.EOF && len(v.carry) > 0 {
		return n, errInvalidUTF8 // message ended inside a code point
	}
	return n, err
}

func (v *utf8Stream) check(b []byte) bool {
	if len(v.carry) > 0 {
		k := min(4-len(v.carry), len(b))
		tmp := append(v.carry, b[:k]...)
		if !utf8.FullRune(tmp) {
			v.carry = tmp
			return validPrefix(tmp)
		}
		r, size := utf8.DecodeRune(tmp)
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		b = b[size-len(v.carry):]
		v.carry = v.carry[:0]
	}
	tail := 0
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				tail = len(b) - i
			}
			break
		}
	}
	if !utf8.Valid(b[:len(b)-tail]) {
		return false
	}
	if tail > 0 {
		if !validPrefix(b[len(b)-tail:]) {
			return false
		}
		v.carry = append(v.carry[:0], b[len(b)-tail:]...)
	}
	return true
}

// validPrefix reports whether p (shorter than its lead byte's sequence
// length) can still be completed to a valid UTF-8 encoding.
func validPrefix(p []byte) bool {
	var n int
	switch c := p[0]; {
	case c >= 0xC2 && c <= 0xDF:
		n = 2
	case c >= 0xE0 && c <= 0xEF:
		n = 3
	case c >= 0xF0 && c <= 0xF4:
		n = 4
	default:
		return false
	}
	if len(p) >= n {
		return utf8.Valid(p)
	}
	var full [4]byte
	for _, second := range []byte{0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF} {
		m := copy(full[:], p)
		for i := m; i < n; i++ {
			full[i] = 0x80
		}
		if m == 1 {
			full[1] = second
		}
		if utf8.Valid(full[:n]) {
			return true
		}
	}
	return false
}

// readAll reads r to EOF into buf, reusing its capacity.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
