package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// chunkReader returns at most n bytes per Read, to split code points.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := min(c.n, len(p), len(c.b))
	copy(p, c.b[:k])
	c.b = c.b[k:]
	return k, nil
}

func TestUTF8StreamMatchesUTF8Valid(t *testing.T) {
	cases := [][]byte{
		[]byte("κόσμε"), []byte("hello"), []byte("\U0010FFFF"), []byte("\u20AC"),
		{0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 'e'}, // surrogate
		{0xf4, 0x90, 0x80, 0x80}, {0xc0, 0xaf}, {0xe0, 0x80, 0xaf}, {0xf0, 0x8f, 0xbf, 0xbf},
		{0xce}, {0xe2, 0x82}, {0xff}, {0x80}, {0xed, 0x9f, 0xbf}, {0xef, 0xbf, 0xbf},
	}
	for _, c := range cases {
		for n := 1; n <= 5; n++ {
			s := &utf8Stream{r: &chunkReader{b: c, n: n}}
			_, err := readAll(s, nil)
			if got, want := err == nil, utf8.Valid(c); got != want {
				t.Errorf("%x chunk %d: valid=%v, utf8.Valid=%v (err %v)", c, n, got, want, err)
			}
		}
	}
}

func TestUTF8StreamFailsFast(t *testing.T) {
	// the invalid sequence is in the first chunk: the first Read must fail
	s := &utf8Stream{r: &chunkReader{b: append([]byte{0xce, 0xba, 0xf4, 0x90, 0x80, 0x80}, bytes.Repeat([]byte("a"), 100)...), n: 6}}
	if _, err := s.Read(make([]byte, 6)); err != errInvalidUTF8 {
		t.Fatalf("first read: err = %v, want errInvalidUTF8", err)
	}
}

func TestUTF8StreamRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'a', 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff}
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(9))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		n := 1 + rng.IntN(4)
		_, err := readAll(&utf8Stream{r: &chunkReader{b: b, n: n}}, nil)
		if got, want := err == nil, utf8.Valid(b); got != want {
			t.Fatalf("%x chunk %d: valid=%v, utf8.Valid=%v", b, n, got, want)
		}
	}
}
