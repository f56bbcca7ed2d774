package wsconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
)

// chunkConn serves a byte stream in chunks of a fixed size.
type chunkConn struct {
	net.Conn
	data  []byte
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

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
	if masked {
		out[1] |= 0x80
		out = append(out, 9, 9, 9, 9)
	}
	return append(out, payload...)
}

// readAll reads through the guard and returns what it let through and the
// error that stopped it.
func readAll(g *frameGuard, size int) ([]byte, error) {
	var got []byte
	buf := make([]byte, size)
	for {
		n, err := g.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
}

func TestFrameGuard(t *testing.T) {
	good := bytes.Join([][]byte{
		frameBytes(0x81, []byte("hello"), true),
		frameBytes(0x02, bytes.Repeat([]byte{0x88}, 300), true), // payload bytes that look like headers
		frameBytes(0x89, []byte("ping"), true),
		frameBytes(0x80, bytes.Repeat([]byte{0x7f}, 70000), true),
		frameBytes(0x88, []byte{0x03, 0xe8}, true),
		frameBytes(0xC1, []byte("deflated first frame"), true),
	}, nil)
	bad := map[string][]byte{
		"close-1-byte":        frameBytes(0x88, []byte{0x03}, true),
		"rsv1-ping":           frameBytes(0xC9, nil, true),
		"rsv1-continuation":   frameBytes(0xC0, []byte("x"), true),
		"length-msb":          append([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1}, 1, 2, 3, 4),
		"close-1-byte-16-bit": append([]byte{0x88, 0x80 | 126, 0, 1}, 1, 2, 3, 4, 5),
	}
	for _, chunk := range []int{1, 2, 3, 5, 64, 1 << 20} {
		g := &frameGuard{Conn: &chunkConn{data: good, chunk: chunk}}
		got, err := readAll(g, chunk)
		if err != io.EOF || !bytes.Equal(got, good) {
			t.Fatalf("chunk %d: valid stream stopped after %d of %d bytes: %v", chunk, len(got), len(good), err)
		}
		for name, b := range bad {
			stream := append(append([]byte(nil), good...), b...)
			g := &frameGuard{Conn: &chunkConn{data: stream, chunk: chunk}}
			got, err := readAll(g, chunk)
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("chunk %d, %s: error %v", chunk, name, err)
			}
			// The good frames always get through; of the bad one, at most
			// the bytes of earlier chunks.
			if len(got) < len(good) || !bytes.Equal(got[:len(good)], good) || len(got) >= len(good)+len(b) {
				t.Fatalf("chunk %d, %s: let %d bytes through, the valid part is %d", chunk, name, len(got), len(good))
			}
			if chunk >= len(stream) && len(got) != len(good) {
				t.Fatalf("chunk %d, %s: bad frame partly delivered", chunk, name)
			}
		}
	}
}

func TestFrameGuardSkipsHandshake(t *testing.T) {
	resp := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
	stream := append(append(resp, frameBytes(0x81, []byte("\r\n\r\n"), false)...), frameBytes(0x88, []byte{1}, false)...)
	for _, chunk := range []int{1, 4, 1000} {
		g := &frameGuard{Conn: &chunkConn{data: stream, chunk: chunk}, skipHTTP: true}
		if _, err := readAll(g, chunk); !errors.Is(err, ErrProtocol) {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
	}
}
