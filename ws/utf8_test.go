package ws

import (
	"testing"
	"unicode/utf8"
)

// validPrefixRef is an independent definition built on the standard
// library: s can still become valid UTF-8 if some completion of at most 3
// bytes makes it valid. Completions use the boundary bytes of every
// continuation range of Unicode table 3-7.
func validPrefixRef(s []byte) bool {
	if utf8.Valid(s) {
		return true
	}
	cont := []byte{0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF}
	var try func(s []byte, depth int) bool
	try = func(s []byte, depth int) bool {
		if depth == 0 {
			return false
		}
		for _, b := range cont {
			t := append(s[:len(s):len(s)], b)
			if utf8.Valid(t) || try(t, depth-1) {
				return true
			}
		}
		return false
	}
	return try(s, 3)
}

// checkChunks feeds data to the validator cut at the given points and
// compares each step and the end with the reference.
func checkChunks(t *testing.T, data []byte, cuts []int) {
	var v utf8Validator
	prev := 0
	for _, c := range append(cuts, len(data)) {
		if c < prev || c > len(data) {
			continue
		}
		ok := v.write(data[prev:c])
		if want := validPrefixRef(data[:c]); ok != want {
			t.Fatalf("%x cut at %v: after %d bytes got %v, want %v", data, cuts, c, ok, want)
		}
		if !ok {
			return
		}
		prev = c
	}
	if got, want := v.done(), utf8.Valid(data); got != want {
		t.Fatalf("%x cut at %v: done %v, want %v", data, cuts, got, want)
	}
}

func TestUTF8ValidatorChunks(t *testing.T) {
	samples := [][]byte{
		[]byte("κόσμε"), []byte("\U0010ffff\U00010000\uffff"), {0xE0, 0xA0, 0x80}, {0xE0, 0x80},
		{0xED, 0x9F, 0xBF}, {0xED, 0xA0, 0x80}, {0xF4, 0x8F, 0xBF, 0xBF}, {0xF4, 0x90}, {0xF0, 0x8F},
		{0xC2}, {0xC1, 0xBF}, {'a', 0xF0, 0x9F, 0x98}, {0xF0, 0x9F, 0x98, 0x80, 'z'},
	}
	for _, s := range samples {
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j++ {
				checkChunks(t, s, []int{i, j})
			}
		}
	}
}

func FuzzUTF8Validator(f *testing.F) {
	f.Add([]byte("κόσμε"), uint8(3), uint8(1))
	f.Add([]byte{0xED, 0xA0, 0x80, 'x'}, uint8(1), uint8(2))
	f.Add([]byte{0xF4, 0x90, 0x80, 0x80}, uint8(2), uint8(0))
	f.Add([]byte("\U0010ffffa\u0800"), uint8(5), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		if len(data) > 64 {
			data = data[:64]
		}
		checkChunks(t, data, []int{int(a) % (len(data) + 1), int(b) % (len(data) + 1)})
	})
}

func BenchmarkUTF8Validator(b *testing.B) {
	text := []byte(string(make([]rune, 0)) + "Hello, κόσμε! 𝄞 " + string(make([]byte, 0)))
	for len(text) < 16<<10 {
		text = append(text, text...)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		var v utf8Validator
		for i := 0; i < len(text); i += 4096 {
			v.write(text[i:min(i+4096, len(text))])
		}
	}
}
