package load

import (
	"bufio"
	"bytes"
	"strconv"
	"testing"
)

// The load generator parses what a server under test sends; a broken or
// hostile server must get an error, never a panic or unbounded memory.
// Seed corpora are in testdata/fuzz/<target>/.

// FuzzFrames checks the two framings against each other: parseFrame (the
// epoll loop's, over a buffer) and frameReader.readFrame (the dialer's,
// over a stream) must find the same frames in the same bytes.
func FuzzFrames(f *testing.F) {
	f.Add(serverFrame(true, opText, []byte("42[1]")))
	f.Add(append(serverFrame(false, opText, []byte("he")), serverFrame(true, opContinuation, []byte("llo"))...))
	f.Add(serverFrame(true, opBinary, bytes.Repeat([]byte{9}, 300)))
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4, 'h'})
	f.Add([]byte{0x82, 127, 0, 0, 0, 0, 0x7f, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := frameReader{br: bufio.NewReaderSize(bytes.NewReader(in), 64)}
		data := in
		for {
			fin, op, p, size, err := parseFrame(data)
			rfin, rop, rp, rerr := r.readFrame()
			switch {
			case err != nil:
				if rerr == nil {
					t.Fatalf("parseFrame: %v; readFrame read a frame", err)
				}
				return
			case size == 0:
				if rerr == nil {
					t.Fatalf("parseFrame found %d bytes incomplete; readFrame read a frame", len(data))
				}
				return
			case rerr != nil:
				t.Fatalf("parseFrame read a frame of %d bytes; readFrame: %v", size, rerr)
			}
			if size > len(data) || len(p) > maxFrame || !bytes.Equal(p, data[size-len(p):size]) {
				t.Fatalf("frame of size %d, payload %d bytes, from %d bytes", size, len(p), len(data))
			}
			if fin != rfin || op != rop || !bytes.Equal(p, rp) {
				t.Fatalf("parseFrame %v %d %q, readFrame %v %d %q", fin, op, p, rfin, rop, rp)
			}
			if _, _, _, n, err := parseFrame(data[:size-1]); n != 0 || err != nil {
				t.Fatalf("a strict prefix of a frame parsed as %d bytes, %v", n, err)
			}
			data = data[size:]
		}
	})
}

// FuzzReadMessage: whatever the stream, messages are text or binary and
// no longer than the stream itself (joining fragments adds nothing).
func FuzzReadMessage(f *testing.F) {
	f.Add(append(serverFrame(false, opText, []byte("4")), serverFrame(true, opContinuation, []byte("2[]"))...))
	f.Add(append(serverFrame(true, opPing, []byte("p")), serverFrame(true, opBinary, []byte{1})...))
	f.Add(serverFrame(true, opContinuation, []byte("x")))
	f.Add(serverFrame(true, opClose, []byte{3, 232}))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := frameReader{br: bufio.NewReaderSize(bytes.NewReader(in), 64)}
		pings := 0
		for range len(in) + 1 { // every message takes at least 2 bytes
			op, msg, err := r.readMessage(func([]byte) error { pings++; return nil })
			if err != nil {
				return
			}
			if op != opText && op != opBinary {
				t.Fatalf("message of opcode %d", op)
			}
			if len(msg) > len(in) {
				t.Fatalf("message of %d bytes from %d bytes", len(msg), len(in))
			}
		}
		t.Fatalf("more messages than bytes in %d bytes", len(in))
	})
}

// FuzzParseMessage: an ack id, when found, is the digits that precede the
// data, and the data is the rest of the message.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{`42["echo","hi"]`, `4312["x"]`, `40{"sid":"a"}`, `44{"message":"no"}`, `42/admin,7["a"]`, `2`, `4`, ``, `4399999999999999999999[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := parseMessage(in)
		if err != nil {
			return
		}
		if !bytes.HasSuffix(in, p.data) {
			t.Fatalf("data %q is not the end of %q", p.data, in)
		}
		if in[0] != eioMessage {
			if p.other != in[0] || p.typ != 0 || p.id != -1 {
				t.Fatalf("%q: %+v", in, p)
			}
			return
		}
		if p.id >= 0 && !bytes.HasSuffix(in[:len(in)-len(p.data)], strconv.AppendInt(nil, p.id, 10)) {
			t.Fatalf("id %d is not before the data in %q", p.id, in)
		}
		if p.id < 0 && len(p.data) > 0 && p.data[0] >= '0' && p.data[0] <= '9' {
			t.Fatalf("%q: data starts with a digit but no id was read", in)
		}
	})
}

// FuzzParseOpen: an accepted open packet has a session id.
func FuzzParseOpen(f *testing.F) {
	for _, s := range []string{`0{"sid":"abc","pingInterval":25000,"pingTimeout":20000}`, `0{}`, `0`, `1`, `0{"sid":1}`, `0[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		o, err := parseOpen(in)
		if err == nil && o.SID == "" {
			t.Fatalf("%q accepted without a sid", in)
		}
		// quoteShort keeps 60 bytes, at most 4 characters each once quoted.
		if err != nil && len(err.Error()) > 300 {
			t.Fatalf("error text of %d bytes: the message must be cut", len(err.Error()))
		}
	})
}

// FuzzParseStamp: a stamp written by stampArg reads back; any other data
// reads back as no stamp or as one with non-negative numbers.
func FuzzParseStamp(f *testing.F) {
	f.Add([]byte(`["broadcast","12:1700000000000000000:xxxx"]`), int64(12), int64(1700000000000000000), 64)
	f.Add([]byte(`["broadcast","1:2"]`), int64(0), int64(0), 0)
	f.Add([]byte(`["broadcast","99999999999999999999:1:"]`), int64(1), int64(1), 8)
	f.Fuzz(func(t *testing.T, in []byte, seq, ns int64, size int) {
		if s, n, ok := parseStamp(in); ok && (s < 0 || n < 0) {
			t.Fatalf("%q: seq %d, ns %d", in, s, n)
		}
		if seq < 0 || ns < 0 || size > 1<<16 {
			return
		}
		data := append([]byte(`["broadcast",`), stampArg(nil, seq, ns, size)...)
		data = append(data, ']')
		s, n, ok := parseStamp(data)
		// Numbers of 19 digits are no stamp by design (no overflow).
		if len(strconv.FormatInt(seq, 10)) < 19 && len(strconv.FormatInt(ns, 10)) < 19 && (!ok || s != seq || n != ns) {
			t.Fatalf("stamp %d:%d (size %d) read back as %d:%d %v", seq, ns, size, s, n, ok)
		}
	})
}
