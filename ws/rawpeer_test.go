package ws

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if any goroutine of this package outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitGoroutines waits for every goroutine running code of this module to
// end and returns the stacks of those that did not.
func waitGoroutines(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "sockio/sockio/") && !strings.Contains(g, "waitGoroutines") &&
				!strings.Contains(g, "testing.(*M).Run") && !strings.Contains(g, "testing.tRunner") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServer serves srv on a loopback port and returns its ws:// URL; the
// server is shut down when the test ends.
func startServer(t testing.TB, srv *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return "ws://" + l.Addr().String()
}

// echoHandlers echo like `sockio echo`: text whole, binary streamed.
func echoHandlers() Handlers {
	return Handlers{
		OnText: func(c *Conn, text []byte) { _ = c.SendText(text) },
		OnBinaryStream: func(c *Conn, r io.Reader) {
			w, err := c.Writer(context.Background(), Binary)
			if err != nil {
				return
			}
			_, _ = io.Copy(w, r)
			_ = w.Close()
		},
	}
}

// startEcho starts an echo server without heartbeat (so no ping frame
// surprises a raw peer) and returns its host:port.
func startEcho(t testing.TB, opts ConnOptions) string {
	t.Helper()
	if opts.PingInterval == 0 {
		opts.PingInterval = -1
	}
	u := startServer(t, &Server{Handlers: echoHandlers(), ConnOptions: opts})
	return strings.TrimPrefix(u, "ws://")
}

// rawPeer is a WebSocket client written by hand, frame by frame, so tests
// can send what no library would.
type rawPeer struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// dialRaw opens a TCP connection and completes the handshake; extra are
// additional request header lines.
func dialRaw(t testing.TB, addr string, extra ...string) *rawPeer {
	t.Helper()
	p, resp, err := tryDialRaw(addr, extra...)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: got %s", resp.Status)
	}
	p.t = t
	t.Cleanup(func() { p.c.Close() })
	return p
}

func tryDialRaw(addr string, extra ...string) (*rawPeer, *http.Response, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	req := "GET /echo?x=1 HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n"
	for _, h := range extra {
		req += h + "\r\n"
	}
	req += "\r\n"
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return &rawPeer{c: c, br: br}, resp, nil
}

// encodeFrame builds a frame: b0 is FIN|RSV|opcode; the payload is masked
// when mask is true.
func encodeFrame(b0 byte, payload []byte, mask bool) []byte {
	out := []byte{b0, 0}
	n := len(payload)
	switch {
	case n < 126:
		out[1] = byte(n)
	case n < 65536:
		out[1] = 126
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out[1] = 127
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !mask {
		return append(out, payload...)
	}
	out[1] |= 0x80
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key[:]...)
	start := len(out)
	out = append(out, payload...)
	for i := range payload {
		out[start+i] ^= key[i%4]
	}
	return out
}

func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	_ = p.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.c.Write(b); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// send writes one masked frame.
func (p *rawPeer) send(fin bool, op byte, payload []byte) {
	p.t.Helper()
	b0 := op
	if fin {
		b0 |= 0x80
	}
	p.write(encodeFrame(b0, payload, true))
}

type frame struct {
	fin     bool
	rsv     byte
	op      byte
	masked  bool
	payload []byte
}

// readFrame reads one frame sent by the server and checks what every
// server frame must satisfy: unmasked, minimal length encoding.
func (p *rawPeer) readFrame(timeout time.Duration) (frame, error) {
	_ = p.c.SetReadDeadline(time.Now().Add(timeout))
	var h [2]byte
	if _, err := io.ReadFull(p.br, h[:]); err != nil {
		return frame{}, err
	}
	f := frame{fin: h[0]&0x80 != 0, rsv: h[0] & 0x70, op: h[0] & 0x0f, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(p.br, b[:]); err != nil {
			return frame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
		if n < 126 {
			return f, fmt.Errorf("server used a 16-bit length for %d bytes", n)
		}
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(p.br, b[:]); err != nil {
			return frame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
		if n < 65536 {
			return f, fmt.Errorf("server used a 64-bit length for %d bytes", n)
		}
	}
	if f.masked {
		return f, errors.New("server sent a masked frame")
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(p.br, f.payload); err != nil {
		return frame{}, err
	}
	return f, nil
}

// readMessage reads one data message (assembling fragments), answering
// nothing; control frames before it are returned in ctrl.
func (p *rawPeer) readMessage() (op byte, data []byte, frames []frame, ctrl []frame) {
	p.t.Helper()
	for {
		f, err := p.readFrame(20 * time.Second)
		if err != nil {
			p.t.Fatalf("read: %v", err)
		}
		if f.rsv != 0 {
			p.t.Fatalf("server frame with RSV bits %#x", f.rsv)
		}
		if f.op >= 0x8 {
			if f.op == opClose {
				p.t.Fatalf("unexpected close frame %s", closeString(f.payload))
			}
			ctrl = append(ctrl, f)
			continue
		}
		switch {
		case len(frames) == 0 && f.op == opCont:
			p.t.Fatal("server sent a continuation without a start")
		case len(frames) > 0 && f.op != opCont:
			p.t.Fatalf("server started a new message (op %d) inside a fragmented one", f.op)
		}
		frames = append(frames, f)
		data = append(data, f.payload...)
		if f.fin {
			return frames[0].op, data, frames, ctrl
		}
	}
}

func closeString(b []byte) string {
	if len(b) < 2 {
		return fmt.Sprintf("(body %d bytes)", len(b))
	}
	return fmt.Sprintf("%d %q", binary.BigEndian.Uint16(b), b[2:])
}

// expectClose reads until the server's close frame, which must carry code
// (-1: an empty body), with no data frame before it; then the server must
// close the TCP connection.
func (p *rawPeer) expectClose(code int) {
	p.t.Helper()
	for {
		f, err := p.readFrame(10 * time.Second)
		if err != nil {
			p.t.Fatalf("waiting for close %d: %v", code, err)
		}
		if f.op == opPing || f.op == opPong {
			continue
		}
		if f.op != opClose {
			p.t.Fatalf("waiting for close %d: got a frame with op %d (%d bytes)", code, f.op, len(f.payload))
		}
		got := -1
		if len(f.payload) >= 2 {
			got = int(binary.BigEndian.Uint16(f.payload))
		}
		if got != code {
			p.t.Fatalf("close code: got %s, want %d", closeString(f.payload), code)
		}
		break
	}
	p.expectEOF()
}

// expectEOF checks that the server closes the TCP connection (after an
// optional close reply of ours, which may fail if it closed first).
func (p *rawPeer) expectEOF() {
	p.t.Helper()
	_ = p.c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = p.c.Write(encodeFrame(0x80|opClose, nil, true))
	_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, p.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		p.t.Fatal("server did not close the TCP connection")
	}
}

func closeBody(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}
