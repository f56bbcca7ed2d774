package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sockio/sockio/engineio/packet"
)

// pollingTransport is HTTP long-polling: GETs bring the server's packets,
// POSTs carry ours. Its requests end with the session's context.
type pollingTransport struct{ c *Conn }

func (t *pollingTransport) name() string { return Polling }

func (t *pollingTransport) close() {}

func (c *Conn) openPolling(ctx context.Context) error {
	body, err := c.request(ctx, http.MethodGet, nil)
	if err != nil {
		return fmt.Errorf("failed to open polling transport: %w", err)
	}
	pkts, err := decodePayload(body)
	if err != nil {
		return fmt.Errorf("failed to open polling transport: %w", err)
	}
	if err := c.onOpenPacket(pkts[0]); err != nil {
		return err
	}
	c.first = pkts[1:]
	c.tr = &pollingTransport{c}
	return nil
}

func decodePayload(body []byte) ([]packet.Packet, error) {
	var pkts []packet.Packet
	err := packet.DecodePayload(body, 0, func(p packet.Packet) error {
		pkts = append(pkts, p)
		return nil
	})
	return pkts, err
}

// pollLoop polls until the session ends, the transport changes or an
// upgrade pauses it. first are the packets that came with the handshake.
func (c *Conn) pollLoop(tr *pollingTransport, first []packet.Packet) {
	defer c.wg.Done()
	// The loop decides to stop and says so in one critical section, so
	// that an aborted upgrade knows whether it must start a new one.
	exitLocked := func() {
		c.pollRunning, c.polling = false, false
		c.signal(c.idle)
	}
	defer func() {
		c.mu.Lock()
		if c.state == stateClosed {
			exitLocked()
		}
		c.mu.Unlock()
	}()
	if !c.handle(first) {
		return
	}
	for {
		c.mu.Lock()
		// Closing: no new poll, as the reference (the server ends the
		// session on our close packet; a poll after it would fail).
		if c.state != stateOpen || c.tr != transport(tr) || c.upgrading {
			exitLocked()
			c.mu.Unlock()
			return
		}
		c.polling = true
		c.mu.Unlock()

		body, err := c.request(c.ctx, http.MethodGet, nil)
		if err != nil {
			c.mu.Lock()
			closing := c.state == stateClosing
			c.mu.Unlock()
			if !closing { // closing: the server may have ended the session already
				c.fail(ReasonTransportError, fmt.Errorf("failed to poll: %w", err))
			}
			return
		}
		// Packets before a bad record are handled, as the reference does.
		pkts, derr := decodePayload(body)
		if !c.handle(pkts) {
			return
		}
		if derr != nil {
			c.fail(ReasonTransportError, fmt.Errorf("failed to decode poll response: %w", derr))
			return
		}
		c.mu.Lock()
		c.polling = false
		c.signal(c.idle)
		c.mu.Unlock()
	}
}

func (t *pollingTransport) write(ctx context.Context, pkts []outPacket) error {
	ctx, cancel := context.WithTimeout(ctx, t.c.opts.WriteTimeout)
	defer cancel()
	var body []byte
	for i, p := range pkts {
		if i > 0 {
			body = append(body, packet.Separator)
		}
		body = packet.AppendText(body, p.Packet)
	}
	if _, err := t.c.request(ctx, http.MethodPost, body); err != nil {
		return fmt.Errorf("failed to post: %w", err)
	}
	return nil
}

// request sends one polling request and returns the response body.
func (c *Conn) request(ctx context.Context, method string, body []byte) ([]byte, error) {
	u := *c.opts.URL
	u.RawQuery = c.query(Polling).Encode()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, err
	}
	for k, v := range c.opts.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	req.Header.Set("Accept", "*/*")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxMessageSize+1))
	if resp.StatusCode != http.StatusOK {
		return nil, newHandshakeError(resp.StatusCode, data)
	}
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.opts.MaxMessageSize {
		return nil, ErrTooLarge
	}
	return data, nil
}

// newHandshakeError reads the server's {"code":N,"message":"..."} if any.
func newHandshakeError(status int, body []byte) *HandshakeError {
	e := &HandshakeError{Status: status, Code: -1, Message: http.StatusText(status)}
	var v struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil && v.Code != nil {
		e.Code, e.Message = *v.Code, v.Message
	} else if s := strings.TrimSpace(string(body)); s != "" && len(s) < 200 {
		e.Message = s
	}
	return e
}
