package load

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// wsConn is a minimal RFC 6455 client connection: the load generator's own,
// so that its cost is small and the same whichever server it measures.
// Reads happen on one goroutine; writes are serialised by wmu because the
// reader answers pings while another goroutine may be sending.
type wsConn struct {
	nc net.Conn
	fr frameReader

	wmu  sync.Mutex
	wbuf []byte
	rng  *mrand.PCG
}

// sourceAddr spreads clients over 127.0.0.2..127.0.0.254, so that each
// source address has its own ephemeral port range and a large run never
// runs out of ports.
func sourceAddr(i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%253))}
}

// dialTCP connects from the i-th loopback source address.
func dialTCP(ctx context.Context, addr string, i int) (net.Conn, error) {
	d := net.Dialer{LocalAddr: sourceAddr(i)}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &phaseError{phase: "dial", err: err}
	}
	return nc, nil
}

// dialWS opens a WebSocket to addr+path from the i-th source address; ctx
// bounds the whole handshake.
func dialWS(ctx context.Context, addr, path string, i, readBuf int) (*wsConn, error) {
	nc, err := dialTCP(ctx, addr, i)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var kb [16]byte
	_, _ = rand.Read(kb[:])
	key := base64.StdEncoding.EncodeToString(kb[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		nc.Close()
		return nil, &phaseError{phase: "upgrade", err: err}
	}
	br := bufio.NewReaderSize(nc, readBuf)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, &phaseError{phase: "upgrade", err: err}
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, &phaseError{phase: "upgrade", err: &statusError{code: resp.StatusCode}}
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		nc.Close()
		return nil, &phaseError{phase: "upgrade", err: fmt.Errorf("bad Sec-WebSocket-Accept")}
	}
	_ = nc.SetDeadline(time.Time{})
	var seed [16]byte
	_, _ = rand.Read(seed[:])
	c := &wsConn{nc: nc, fr: frameReader{br: br}, rng: mrand.NewPCG(leUint64(seed[:8]), leUint64(seed[8:]))}
	return c, nil
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// write sends one masked frame.
func (c *wsConn) write(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendFrame(c.wbuf[:0], op, payload, uint32(c.rng.Uint64()))
	_, err := c.nc.Write(c.wbuf)
	return err
}

// writeText sends one text message.
func (c *wsConn) writeText(payload []byte) error { return c.write(opText, payload) }

// read returns the next data message, answering WebSocket pings.
func (c *wsConn) read() (byte, []byte, error) {
	return c.fr.readMessage(func(p []byte) error { return c.write(opPong, p) })
}

// close sends a close frame (best effort) and closes the socket.
func (c *wsConn) close() {
	_ = c.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_ = c.write(opClose, []byte{0x03, 0xe8}) // 1000, normal closure
	_ = c.nc.Close()
}
