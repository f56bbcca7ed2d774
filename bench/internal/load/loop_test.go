//go:build linux

package load

import (
	"bytes"
	"strings"
	"testing"
)

func TestLoopFragmentLimit(t *testing.T) {
	l, c := &loop{}, &lconn{}
	var got [][]byte
	onMsg := func(_ *lconn, _ byte, msg []byte) { got = append(got, bytes.Clone(msg)) }
	chunk := make([]byte, 1<<20)
	if err := l.frame(c, false, opText, chunk, onMsg); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 1; i <= maxMessage>>20 && err == nil; i++ {
		err = l.frame(c, false, opContinuation, chunk, onMsg)
	}
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("got %v after %d bytes, want the message limit", err, len(c.frag))
	}
	if len(c.frag) > maxMessage || len(got) != 0 {
		t.Fatalf("joined %d bytes (limit %d), %d messages delivered", len(c.frag), maxMessage, len(got))
	}
}

func TestLoopJoinsFragments(t *testing.T) {
	l, c := &loop{}, &lconn{}
	var got []string
	onMsg := func(_ *lconn, op byte, msg []byte) {
		if op != opText {
			t.Errorf("op %d, want text", op)
		}
		got = append(got, string(msg))
	}
	for _, f := range []struct {
		fin bool
		op  byte
		p   string
	}{{false, opText, "4"}, {false, opContinuation, "2[\"a"}, {true, opContinuation, "\"]"}, {true, opText, "3"}} {
		if err := l.frame(c, f.fin, f.op, []byte(f.p), onMsg); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != `42["a"]` || got[1] != "3" {
		t.Fatalf("got %q", got)
	}
	if err := l.frame(c, true, opContinuation, []byte("x"), onMsg); err == nil {
		t.Fatal("a continuation without a start was accepted")
	}
}
