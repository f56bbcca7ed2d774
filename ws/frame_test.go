package ws

// Frame-level conformance tests derived from RFC 6455 sections 5 and 7 (and
// 8.1 for UTF-8), run against the echo server over raw TCP.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Section 5.2: payload lengths at each boundary of the 7-bit, 16-bit and
// 64-bit encodings, text (read whole) and binary (streamed).
func TestEchoPayloadLengths(t *testing.T) {
	addr := startEcho(t, ConnOptions{MaxMessageSize: 17 << 20, MaxQueuedBytes: 17 << 20})
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 16 << 20} {
		for _, op := range []byte{opText, opBinary} {
			t.Run(fmt.Sprintf("%d/op%d", n, op), func(t *testing.T) {
				p := dialRaw(t, addr)
				payload := bytes.Repeat([]byte("ab€"), n/5+1)[:0] // valid UTF-8, exact length below
				for len(payload) < n {
					payload = append(payload, 'a'+byte(len(payload)%26))
				}
				go func() { // a 16 MiB frame and its echo exceed the socket buffers
					_ = p.c.SetWriteDeadline(time.Now().Add(20 * time.Second))
					_, _ = p.c.Write(encodeFrame(0x80|op, payload, true))
				}()
				gotOp, data, frames, _ := p.readMessage()
				if gotOp != op || !bytes.Equal(data, payload) {
					t.Fatalf("echo: op %d, %d bytes; want op %d, %d bytes", gotOp, len(data), op, n)
				}
				for _, f := range frames {
					if op == opBinary && len(f.payload) > DefaultFragmentSize {
						t.Fatalf("binary fragment of %d bytes, over FragmentSize", len(f.payload))
					}
				}
				p.send(true, opClose, closeBody(1000, ""))
				p.expectClose(1000)
			})
		}
	}
}

// Section 5.2: RSV1-3 must be 0 when no extension defines them.
func TestReservedBits(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	for _, rsv := range []byte{0x40, 0x20, 0x10, 0x70} {
		for _, op := range []byte{opText, opBinary, opPing, opPong, opClose} {
			t.Run(fmt.Sprintf("rsv%#x/op%d", rsv, op), func(t *testing.T) {
				p := dialRaw(t, addr)
				body := []byte("hi")
				if op == opClose {
					body = closeBody(1000, "")
				}
				p.write(encodeFrame(0x80|rsv|op, body, true))
				p.expectClose(1002)
			})
		}
		for _, op := range []byte{opText, opBinary} { // binary is streamed: its echo must not be finished
			t.Run(fmt.Sprintf("rsv%#x/continuation-of-op%d", rsv, op), func(t *testing.T) {
				p := dialRaw(t, addr)
				p.send(false, op, []byte("a"))
				p.write(encodeFrame(0x80|rsv|opCont, []byte("b"), true))
				p.expectClose(1002)
			})
		}
	}
}

// Section 5.2: opcodes 3-7 and 0xB-0xF are reserved.
func TestReservedOpcodes(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		t.Run(fmt.Sprint(op), func(t *testing.T) {
			p := dialRaw(t, addr)
			p.send(true, op, []byte("x"))
			p.expectClose(1002)
		})
		t.Run(fmt.Sprintf("%d/inside-fragmented", op), func(t *testing.T) {
			p := dialRaw(t, addr)
			p.send(false, opText, []byte("a"))
			p.send(true, op, nil)
			p.expectClose(1002)
		})
	}
}

// Section 5.1 and 5.3: a server must close on an unmasked client frame.
func TestUnmaskedClientFrame(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	for _, op := range []byte{opText, opBinary, opPing, opClose} {
		t.Run(fmt.Sprint(op), func(t *testing.T) {
			p := dialRaw(t, addr)
			body := []byte("hi")
			if op == opClose {
				body = closeBody(1000, "")
			}
			p.write(encodeFrame(0x80|op, body, false))
			p.expectClose(1002)
		})
	}
}

// Section 5.2: a 64-bit length must have its most significant bit clear.
func TestLengthMostSignificantBit(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	p := dialRaw(t, addr)
	hdr := []byte{0x80 | opBinary, 0x80 | 127}
	hdr = binary.BigEndian.AppendUint64(hdr, 1<<63|5)
	hdr = append(hdr, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o')
	p.write(hdr)
	p.expectClose(1002)
}

// Section 5.5: control frames carry at most 125 bytes and are never
// fragmented; a ping is answered by a pong with the same payload; an
// unsolicited pong is ignored.
func TestControlFrames(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	t.Run("ping/0", func(t *testing.T) { pingPong(t, addr, nil) })
	t.Run("ping/125", func(t *testing.T) { pingPong(t, addr, bytes.Repeat([]byte{0xfe}, 125)) })
	t.Run("ping/126", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opPing, make([]byte, 126))
		p.expectClose(1002)
	})
	t.Run("close/126", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opClose, closeBody(1000, strings.Repeat("x", 124)))
		p.expectClose(1002)
	})
	for _, op := range []byte{opPing, opPong, opClose} {
		t.Run(fmt.Sprintf("fragmented/op%d", op), func(t *testing.T) {
			p := dialRaw(t, addr)
			p.send(false, op, closeBody(1000, ""))
			p.send(true, opCont, nil)
			p.expectClose(1002)
		})
	}
	t.Run("unsolicited-pong", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opPong, []byte("nobody asked"))
		p.send(true, opText, []byte("still here"))
		if _, data, _, _ := p.readMessage(); string(data) != "still here" {
			t.Fatalf("echo after pong: %q", data)
		}
	})
}

func pingPong(t *testing.T, addr string, payload []byte) {
	p := dialRaw(t, addr)
	p.send(true, opPing, payload)
	f, err := p.readFrame(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if f.op != opPong || !f.fin || !bytes.Equal(f.payload, payload) {
		t.Fatalf("got op %d fin %v payload %d bytes, want the pong of %d bytes", f.op, f.fin, len(f.payload), len(payload))
	}
}

// Section 5.4: fragmentation rules.
func TestFragmentation(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	t.Run("text-in-3", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(false, opText, []byte("frag"))
		p.send(false, opCont, []byte("men"))
		p.send(true, opCont, []byte("ted"))
		if op, data, _, _ := p.readMessage(); op != opText || string(data) != "fragmented" {
			t.Fatalf("got op %d %q", op, data)
		}
	})
	t.Run("binary-empty-fragments", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(false, opBinary, nil)
		p.send(false, opCont, []byte{1, 2})
		p.send(false, opCont, nil)
		p.send(true, opCont, nil)
		if op, data, _, _ := p.readMessage(); op != opBinary || !bytes.Equal(data, []byte{1, 2}) {
			t.Fatalf("got op %d %v", op, data)
		}
	})
	t.Run("utf8-one-byte-fragments", func(t *testing.T) {
		p := dialRaw(t, addr)
		msg := []byte("κόσμε 𝄞 ok")
		for i, b := range msg {
			op := byte(opCont)
			if i == 0 {
				op = opText
			}
			p.send(i == len(msg)-1, op, []byte{b})
		}
		if _, data, _, _ := p.readMessage(); !bytes.Equal(data, msg) {
			t.Fatalf("got %q", data)
		}
	})
	t.Run("ping-between-fragments", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(false, opText, []byte("a"))
		p.send(true, opPing, []byte("p"))
		p.send(true, opCont, []byte("b"))
		_, data, _, ctrl := p.readMessage()
		if string(data) != "ab" || len(ctrl) != 1 || ctrl[0].op != opPong || string(ctrl[0].payload) != "p" {
			t.Fatalf("got %q after %d control frames", data, len(ctrl))
		}
	})
	t.Run("continuation-without-start", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opCont, []byte("x"))
		p.expectClose(1002)
	})
	t.Run("new-message-inside-fragmented", func(t *testing.T) {
		for _, op := range []byte{opText, opBinary} {
			p := dialRaw(t, addr)
			p.send(false, opText, []byte("a"))
			p.send(true, op, []byte("b"))
			p.expectClose(1002)
		}
	})
	t.Run("close-inside-fragmented", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(false, opText, []byte("a"))
		p.send(true, opClose, closeBody(1000, "bye"))
		p.expectClose(1000)
	})
}

// Section 8.1: text must be UTF-8; an invalid message fails the connection
// with 1007, as soon as the bad byte arrives.
func TestUTF8(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	valid := []string{
		"", "\x7f", "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff",
		"\U00010000", "\U0010ffff", "κόσμε", "Hello-µ@ßöäüàá-UTF-8!!",
	}
	for i, s := range valid {
		t.Run(fmt.Sprintf("valid/%d", i), func(t *testing.T) {
			p := dialRaw(t, addr)
			p.send(true, opText, []byte(s))
			if _, data, _, _ := p.readMessage(); string(data) != s {
				t.Fatalf("got %q want %q", data, s)
			}
		})
	}
	invalid := map[string][]byte{
		"lone-continuation": {0x80},
		"overlong-2":        {0xC0, 0xAF},
		"overlong-3":        {0xE0, 0x80, 0xAF},
		"overlong-4":        {0xF0, 0x80, 0x80, 0xAF},
		"surrogate-high":    {0xED, 0xA0, 0x80},
		"surrogate-low":     {0xED, 0xBF, 0xBF},
		"past-10FFFF":       {0xF4, 0x90, 0x80, 0x80},
		"F5":                {0xF5, 0x80, 0x80, 0x80},
		"FE":                {0xFE},
		"FF":                {0xFF},
		"truncated-at-end":  {'o', 'k', 0xE2, 0x82},
		"kosme-then-bad":    append([]byte("κόσμε"), 0xED, 0xA0, 0x80, 'e', 'd', 'i', 't', 'e', 'd'),
	}
	for name, b := range invalid {
		t.Run("invalid/"+name, func(t *testing.T) {
			p := dialRaw(t, addr)
			p.send(true, opText, b)
			p.expectClose(1007)
		})
		t.Run("invalid-fragmented/"+name, func(t *testing.T) {
			p := dialRaw(t, addr)
			for i := range b {
				op := byte(opCont)
				if i == 0 {
					op = opText
				}
				p.send(i == len(b)-1, op, b[i:i+1])
			}
			p.expectClose(1007)
		})
	}
}

// Fail fast: the server must reject invalid UTF-8 before the message ends,
// whether the bad byte ends a fragment, starts the next one, or sits at
// the start of a frame whose rest has not been sent.
func TestUTF8FailFast(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	t.Run("first-fragment", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(false, opText, append([]byte("κόσμε"), 0xF4, 0x90))
		p.expectClose(1007) // the final fragment is never sent
	})
	t.Run("across-fragments", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(false, opText, []byte{'a', 0xE0})
		p.send(false, opCont, []byte{0x80}) // E0 needs A0-BF next
		p.expectClose(1007)
	})
	t.Run("inside-a-frame", func(t *testing.T) {
		p := dialRaw(t, addr)
		payload := append([]byte("abc"), 0xC0, 0xAF)
		payload = append(payload, make([]byte, 995)...)
		f := encodeFrame(0x80|opText, payload, true)
		p.write(f[:8+5]) // header, mask, the first 5 payload bytes only
		p.expectClose(1007)
	})
}

// Section 5.5.1 and 7.4: close frame bodies and codes 0-4999.
func TestCloseFrames(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	t.Run("empty", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opClose, nil)
		p.expectClose(-1)
	})
	t.Run("one-byte", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opClose, []byte{0x03})
		p.expectClose(1002)
	})
	t.Run("reason-123", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opClose, closeBody(1000, strings.Repeat("é", 61)+"x"))
		p.expectClose(1000)
	})
	t.Run("reason-invalid-utf8", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opClose, closeBody(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
		p.expectClose(1002)
	})
	t.Run("data-after-close", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opClose, closeBody(1000, ""))
		p.send(true, opText, []byte("too late"))
		p.expectClose(1000) // and no echo before it
	})
}

// wantCloseReply is the reply RFC 6455 7.4 and the IANA registry call for:
// a valid code is echoed, any other fails the connection with 1002.
func wantCloseReply(code int) int {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		// 1014 ("Bad Gateway") is registered by IANA and accepted by
		// Node's ws and Python's websockets.
		return code
	}
	return 1002
}

func TestCloseCodes(t *testing.T) {
	addr := startEcho(t, ConnOptions{})
	codes := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for code := range codes {
				if err := closeCodeCase(addr, code); err != nil {
					mu.Lock()
					failed = append(failed, err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	for code := 0; code < 5000; code++ {
		codes <- code
	}
	close(codes)
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d codes wrong, first: %s", len(failed), strings.Join(failed[:min(10, len(failed))], "; "))
	}
}

// closeCodeCase sends a close frame with code and checks the reply, without
// testing.T so it can run on worker goroutines.
func closeCodeCase(addr string, code int) error {
	p, _, err := tryDialRaw(addr)
	if err != nil {
		return err
	}
	defer p.c.Close()
	_ = p.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.c.Write(encodeFrame(0x80|opClose, closeBody(code, "r"), true)); err != nil {
		return err
	}
	f, err := p.readFrame(10 * time.Second)
	if err != nil {
		return fmt.Errorf("code %d: %v", code, err)
	}
	got := -1
	if len(f.payload) >= 2 {
		got = int(binary.BigEndian.Uint16(f.payload))
	}
	if f.op != opClose || got != wantCloseReply(code) {
		return fmt.Errorf("code %d: got op %d code %d, want close %d", code, f.op, got, wantCloseReply(code))
	}
	return nil
}

// Limits: a message past MaxMessageSize closes with 1009, whether one
// frame declares it or fragments add up to it.
func TestMessageTooBig(t *testing.T) {
	addr := startEcho(t, ConnOptions{MaxMessageSize: 1000, MaxStreamSize: 2000})
	t.Run("text-one-frame", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opText, bytes.Repeat([]byte("a"), 1001))
		p.expectClose(1009)
	})
	t.Run("text-at-limit", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(true, opText, bytes.Repeat([]byte("a"), 1000))
		if _, data, _, _ := p.readMessage(); len(data) != 1000 {
			t.Fatalf("got %d bytes", len(data))
		}
	})
	t.Run("text-fragments", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(false, opText, bytes.Repeat([]byte("a"), 600))
		p.send(true, opCont, bytes.Repeat([]byte("a"), 600))
		p.expectClose(1009)
	})
	t.Run("declared-huge", func(t *testing.T) {
		p := dialRaw(t, addr)
		hdr := []byte{0x80 | opText, 0x80 | 127}
		hdr = binary.BigEndian.AppendUint64(hdr, 1<<40)
		p.write(append(hdr, 1, 2, 3, 4))
		p.expectClose(1009)
	})
	t.Run("stream-fragments", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.send(false, opBinary, make([]byte, 1500))
		p.send(true, opCont, make([]byte, 1500))
		// The echo may have streamed part of the message back first, but
		// never its end.
		for {
			f, err := p.readFrame(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if f.fin && f.op != opClose {
				t.Fatal("the echo of a message over the limit was completed")
			}
			if f.op == opClose {
				if code := binary.BigEndian.Uint16(f.payload); code != 1009 {
					t.Fatalf("close %d, want 1009", code)
				}
				break
			}
		}
		p.expectEOF()
	})
}
