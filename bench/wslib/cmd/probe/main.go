// Command probe sends a handful of RFC 6455 edge cases (modelled on Autobahn
// sections 6.x and 7.x) to a running cmd/server /echo endpoint and prints what
// the server answered. It is a spot check, not a replacement for Autobahn.
package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

var addr = flag.String("addr", "127.0.0.1:9000", "server address (loopback only)")

func main() {
	label := flag.String("label", "", "label copied into the output")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("refusing non-loopback address %q", *addr)
	}
	invalid := []byte{0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 'e', 'd', 'i', 't', 'e', 'd'} // Autobahn 6.3.1
	valid := []byte("κόσμε")
	out := map[string]any{"label": *label}
	// 6.3.1-like: one text frame with invalid UTF-8 -> expect close 1007
	out["invalid_utf8_single_frame"] = probe(func(c *conn) { c.frame(true, 1, invalid) })
	// 6.4.x-like: first fragment already invalid; does the server fail fast,
	// i.e. before the final fragment arrives?
	out["invalid_utf8_first_fragment_before_fin"] = probe(func(c *conn) {
		c.frame(false, 1, []byte{0xce, 0xba, 0xf4, 0x90, 0x80, 0x80}) // U+110000: invalid
	})
	out["invalid_utf8_fragmented_after_fin"] = probe(func(c *conn) {
		c.frame(false, 1, []byte{0xce, 0xba, 0xf4, 0x90, 0x80, 0x80})
		c.frame(true, 0, []byte("ok"))
	})
	// 6.2.x-like: valid code point split across fragments must be accepted
	out["valid_utf8_split_codepoint"] = probe(func(c *conn) {
		c.frame(false, 1, valid[:3])
		c.frame(true, 0, valid[3:])
	})
	// 7.9.x-like: invalid close codes -> expect close 1002
	for _, code := range []uint16{999, 1005, 1016, 2999, 5000} {
		code := code
		out[fmt.Sprintf("close_code_%d", code)] = probe(func(c *conn) {
			c.frame(true, 8, binary.BigEndian.AppendUint16(nil, code))
		})
	}
	out["close_code_3000"] = probe(func(c *conn) { c.frame(true, 8, binary.BigEndian.AppendUint16(nil, 3000)) })
	// 7.5.1: close reason with invalid UTF-8 -> expect close 1007 (or 1002)
	out["close_reason_invalid_utf8"] = probe(func(c *conn) {
		c.frame(true, 8, append(binary.BigEndian.AppendUint16(nil, 1000), invalid...))
	})
	json.NewEncoder(os.Stdout).Encode(out)
}

type conn struct {
	nc net.Conn
	br *bufio.Reader
}

func (c *conn) frame(fin bool, op byte, p []byte) {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0, 0x80 | byte(len(p))} // all probe payloads < 126
	var mk [4]byte
	rand.Read(mk[:])
	f = append(f, mk[:]...)
	for i, x := range p {
		f = append(f, x^mk[i&3])
	}
	c.nc.Write(f)
}

// probe opens a connection, runs send, and reports the first thing the
// server does within 300 ms: "echo:<text>", "close:<code>", "eof", "nothing".
func probe(send func(*conn)) string {
	c, err := dial()
	if err != nil {
		return "dial error: " + err.Error()
	}
	defer c.nc.Close()
	send(c)
	c.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "nothing (still open)"
		}
		return "eof"
	}
	l := int(h[1] & 0x7f)
	if l >= 126 {
		return fmt.Sprintf("frame op=%d len>=126", h[0]&0xf)
	}
	p := make([]byte, l)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return "eof"
	}
	switch h[0] & 0xf {
	case 8:
		if len(p) >= 2 {
			return fmt.Sprintf("close:%d", binary.BigEndian.Uint16(p))
		}
		return "close:(no code)"
	case 1:
		return fmt.Sprintf("echo:%q", p)
	}
	return fmt.Sprintf("frame op=%d", h[0]&0xf)
}

func dial() (*conn, error) {
	nc, err := net.DialTimeout("tcp", *addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	var kb [16]byte
	rand.Read(kb[:])
	key := base64.StdEncoding.EncodeToString(kb[:])
	fmt.Fprintf(nc, "GET /echo HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", *addr, key)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(h[:]) {
		nc.Close()
		return nil, fmt.Errorf("bad handshake: %s", resp.Status)
	}
	return &conn{nc: nc, br: br}, nil
}
