package wsconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
)

// frameBytes builds a frame with first byte b0, masked with a fixed key
// (as a client sends) or not (as a server does).
func frameBytes(b0 byte, payload []byte, masked bool) []byte {
	out := []byte{b0, 0}
	switch n := len(payload); {
	case n < 126:
		out[1] = byte(n)
	case n < 65536:
		out[1] = 126
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out[1] = 127
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !masked {
		return append(out, payload...)
	}
	out[1] |= 0x80
	key := [4]byte{9, 8, 7, 6}
	out = append(out, key[:]...)
	start := len(out)
	out = append(out, payload...)
	unmask(key, out[start:])
	return out
}

// strictPair is rawPair for either role: client, the Conn reads a
// server's frames; deflate, permessage-deflate was negotiated.
func strictPair(t *testing.T, ln net.Listener, client, deflate bool) (*Conn, net.Conn) {
	c, peer := rawPair(t, ln, 1<<20)
	c.client = client
	if client {
		c.keys = newKeySource()
	}
	if deflate {
		c.defl = newDeflate(deflateParams{serverNoTakeover: true, clientNoTakeover: true}, client)
	}
	return c, peer
}

// TestStrictFrames: the rules of RFC 6455 5 and RFC 7692 6 that the
// library we used skipped (a 1-byte close body, a 64-bit length with its
// top bit set, RSV1 on a control or continuation frame) and the rest,
// enforced on both sides and by both readers (Read and NextReader); the
// valid frames before the bad one are delivered, the bad one is not acted
// on, and the peer gets close 1002.
func TestStrictFrames(t *testing.T) {
	ln := listen(t)
	for _, client := range []bool{false, true} {
		masked := !client // what the peer sends
		good := [][]byte{
			frameBytes(0x81, []byte("hello"), masked),
			frameBytes(0x02, bytes.Repeat([]byte{0x88}, 300), masked), // payload bytes that look like headers
			frameBytes(0x89, []byte("ping"), masked),
			frameBytes(0x80, bytes.Repeat([]byte{0x7f}, 70000), masked),
		}
		bad := map[string][]byte{
			"close-1-byte":        frameBytes(0x88, []byte{0x03}, masked),
			"rsv1-ping":           frameBytes(0xC9, nil, masked),
			"rsv1-continuation":   append(frameBytes(0x01, []byte("a"), masked), frameBytes(0xC0, []byte("x"), masked)...),
			"rsv2":                frameBytes(0xA1, []byte("x"), masked),
			"length-msb":          append([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1}, 1, 2, 3, 4),
			"close-1-byte-16-bit": frameBytes(0x88, []byte{0x03}, masked)[:0],
			"wrong-masking":       frameBytes(0x81, []byte("x"), !masked),
			"rsv1-no-deflate":     frameBytes(0xC1, []byte("x"), masked),
		}
		if masked {
			bad["length-msb"] = append([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1}, 1, 2, 3, 4)
			bad["close-1-byte-16-bit"] = append([]byte{0x88, 0x80 | 126, 0, 1}, 1, 2, 3, 4, 5)
		} else {
			bad["close-1-byte-16-bit"] = []byte{0x88, 126, 0, 1, 5}
		}
		for name, b := range bad {
			for _, streaming := range []bool{false, true} {
				deflate := name != "rsv1-no-deflate"
				t.Run(fmt.Sprintf("client=%v/%s/streaming=%v", client, name, streaming), func(t *testing.T) {
					c, peer := strictPair(t, ln, client, deflate)
					go func() { _, _ = peer.Write(append(bytes.Join(good, nil), b...)) }()
					for i, want := range []string{"hello", string(bytes.Repeat([]byte{0x88}, 300)) + string(bytes.Repeat([]byte{0x7f}, 70000))} {
						_, got, err := readVia(c, streaming)
						if err != nil || string(got) != want {
							t.Fatalf("message %d: %d bytes, %v", i, len(got), err)
						}
					}
					_, _, err := readVia(c, streaming)
					if !errors.Is(err, ErrProtocol) {
						t.Fatalf("error %v, want ErrProtocol", err)
					}
					// The pong for the ping, then close 1002.
					if op, p := readFrame(t, peer); op != opPong || string(p) != "ping" {
						t.Fatalf("got op %d %q, want the pong", op, p)
					}
					op, p := readFrame(t, peer)
					if op != opClose || len(p) < 2 || binary.BigEndian.Uint16(p) != CloseProtocolError {
						t.Fatalf("got op %d %q, want close 1002", op, p)
					}
				})
			}
		}
	}
}

// readVia reads a message with Read or through NextReader.
func readVia(c *Conn, streaming bool) (MessageType, []byte, error) {
	if !streaming {
		return c.Read()
	}
	typ, r, err := c.NextReader()
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(r)
	return typ, b, err
}

// readFrame reads one frame from the Conn's peer side, unmasking it if
// the Conn is a client.
func readFrame(t *testing.T, peer net.Conn) (op byte, payload []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(peer, h[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	var key [4]byte
	if h[1]&0x80 != 0 {
		if _, err := io.ReadFull(peer, key[:]); err != nil {
			t.Fatal(err)
		}
	}
	payload = make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(peer, payload); err != nil {
		t.Fatal(err)
	}
	if h[1]&0x80 != 0 {
		unmask(key, payload)
	}
	return h[0] & 0x0f, payload
}
