package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Engine.IO and Socket.IO, just enough to act as clients and attackers:
// written here rather than taken from package client so that every byte
// on the wire is the harness's choice (a client that never reads, a body
// trickled a byte at a time) and a probe measures the server alone.

// Source addresses. All of 127.0.0.0/8 is loopback on Linux, so each
// simulated visitor can come from an address of its own, as real users
// do: per-address limits in the chat then apply per visitor, not to the
// whole soak at once.
const (
	netChat  = 1 // normal chat users
	netProbe = 2 // probes: a new visitor each time
	netSlow  = 4 // slow consumers
	netChurn = 5 // polling session churn
)

// visitor is the i-th source address of block b: 127.b.x.y.
func visitor(b byte, i int) *net.TCPAddr {
	i %= 250 * 250
	return &net.TCPAddr{IP: net.IPv4(127, b, byte(i/250), byte(i%250+1))}
}

func dialer(local *net.TCPAddr) *net.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: -1}
	if local != nil {
		d.LocalAddr = local
	}
	return d
}

// eioQuery is the query of an Engine.IO v4 request.
func eioQuery(transport, sid string) string {
	q := "/socket.io/?EIO=4&transport=" + transport
	if sid != "" {
		q += "&sid=" + sid
	}
	return q
}

// openPacket is the body of Engine.IO's open packet.
type openPacket struct {
	SID          string `json:"sid"`
	PingInterval int    `json:"pingInterval"`
	PingTimeout  int    `json:"pingTimeout"`
}

func parseOpen(b []byte) (openPacket, error) {
	var o openPacket
	if len(b) == 0 || b[0] != '0' {
		return o, fmt.Errorf("not an open packet: %.60q", b)
	}
	if err := json.Unmarshal(b[1:], &o); err != nil {
		return o, fmt.Errorf("open packet: %w", err)
	}
	if o.SID == "" {
		return o, errors.New("open packet without sid")
	}
	return o, nil
}

// connectPacket is a Socket.IO CONNECT to the main namespace, with the
// chat's auth (its nickname).
func connectPacket(name string) string {
	b, _ := json.Marshal(map[string]string{"name": name})
	return "40" + string(b)
}

// poller is a long-polling Engine.IO client over net/http.
type poller struct {
	base string // http://host:port
	hc   *http.Client
	sid  string
}

func newPoller(base string, local *net.TCPAddr) *poller {
	tr := &http.Transport{
		DialContext:         dialer(local).DialContext,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     10 * time.Second,
	}
	return &poller{base: base, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// close drops the poller's idle connections (not the session: see leave).
func (p *poller) close() { p.hc.CloseIdleConnections() }

func (p *poller) handshake(ctx context.Context) error {
	body, err := p.do(ctx, http.MethodGet, eioQuery("polling", ""), "")
	if err != nil {
		return fmt.Errorf("polling handshake: %w", err)
	}
	o, err := parseOpen(body)
	if err != nil {
		return fmt.Errorf("polling handshake: %w", err)
	}
	p.sid = o.SID
	return nil
}

// send POSTs packets (joined by the record separator, as Engine.IO does).
func (p *poller) send(ctx context.Context, packets ...string) error {
	body, err := p.do(ctx, http.MethodPost, eioQuery("polling", p.sid), strings.Join(packets, "\x1e"))
	if err != nil {
		return fmt.Errorf("polling send: %w", err)
	}
	if string(body) != "ok" {
		return fmt.Errorf("polling send: answered %.60q", body)
	}
	return nil
}

// poll GETs what the server has for this session.
func (p *poller) poll(ctx context.Context) ([]string, error) {
	body, err := p.do(ctx, http.MethodGet, eioQuery("polling", p.sid), "")
	if err != nil {
		return nil, fmt.Errorf("poll: %w", err)
	}
	return strings.Split(string(body), "\x1e"), nil
}

// leave closes the session the way a client does (packet 1).
func (p *poller) leave(ctx context.Context) {
	if p.sid != "" {
		_, _ = p.do(ctx, http.MethodPost, eioQuery("polling", p.sid), "1")
	}
}

func (p *poller) do(ctx context.Context, method, path, body string) ([]byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %.80q", resp.Status, b)
	}
	return b, nil
}

// wsClient is a Socket.IO client over WebSocket that reads everything.
type wsClient struct {
	c   *websocket.Conn
	sid string // the Socket.IO socket id
}

// dialSocketIO opens a websocket session and joins the main namespace: the
// Engine.IO open packet, then CONNECT and its answer.
func dialSocketIO(ctx context.Context, base string, local *net.TCPAddr, name string) (*wsClient, error) {
	d := websocket.Dialer{NetDialContext: dialer(local).DialContext, HandshakeTimeout: 5 * time.Second}
	url := "ws" + strings.TrimPrefix(base, "http") + eioQuery("websocket", "")
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket dial: %w (%s)", err, resp.Status)
		}
		return nil, fmt.Errorf("websocket dial: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	w := &wsClient{c: c}
	_, msg, err := c.ReadMessage()
	if err == nil {
		_, err = parseOpen(msg)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket open packet: %w", err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(connectPacket(name))); err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket CONNECT: %w", err)
	}
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("websocket CONNECT answer: %w", err)
		}
		if bytes.HasPrefix(msg, []byte("44")) {
			c.Close()
			return nil, fmt.Errorf("CONNECT refused: %.100s", msg)
		}
		if bytes.HasPrefix(msg, []byte("40")) {
			var ans struct{ SID string }
			_ = json.Unmarshal(msg[2:], &ans)
			w.sid = ans.SID
			return w, nil
		}
	}
}

// rawConn is a TCP connection to the server with a buffered reader, for
// attacks that write requests by hand.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(ctx context.Context, addr string, local *net.TCPAddr, rcvbuf int) (*rawConn, error) {
	d := dialer(local)
	if rcvbuf > 0 {
		// Before connect, so the window the server sees is small from
		// the first segment.
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) { serr = setRcvBuf(fd, rcvbuf) }); err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	return &rawConn{Conn: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

// wsUpgradeHead is a websocket upgrade request for an Engine.IO session.
func wsUpgradeHead(host, path string) string {
	var key [16]byte
	_, _ = rand.Read(key[:])
	return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n\r\n"
}

// wsFrame is one masked client text frame (RFC 6455 5.2).
func wsFrame(payload []byte) []byte {
	n := len(payload)
	f := make([]byte, 0, 14+n)
	f = append(f, 0x81) // FIN, text
	switch {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n < 1<<16:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	f = append(f, mask[:]...)
	for i, b := range payload {
		f = append(f, b^mask[i%4])
	}
	return f
}

// readResponse reads a whole response (head and body) and returns its
// status and the first 4 KiB of its body.
func readResponse(br *bufio.Reader) (int, []byte, error) {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	head, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 8<<20))
	}
	return resp.StatusCode, head, err
}

// isTimeout reports a deadline that passed (as opposed to a closed or
// reset connection).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// errClass names an error's kind briefly, for outcome counts: the full
// messages carry ports and addresses that differ every time.
func errClass(err error) string {
	msg := err.Error()
	switch {
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case strings.Contains(msg, "too many open files"):
		return "too many open files"
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
	case strings.Contains(msg, "connection reset"):
		return "connection reset"
	case strings.Contains(msg, "EOF"):
		return "EOF"
	}
	if i := strings.Index(msg, "HTTP/1.1 "); i >= 0 {
		return msg[i : i+min(len(msg)-i, 12)]
	}
	for _, code := range []string{"400", "403", "413", "414", "429", "431", "500", "503"} {
		if strings.Contains(msg, code+" ") {
			return "status " + code
		}
	}
	return "other"
}
