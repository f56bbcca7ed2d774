package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sockio/sockio/engineio/packet"
)

// This file is the client's only contact with the WebSocket library. The
// server side goes through internal/wsconn, which has no dialer yet; the
// day it gets one, this file moves onto it.

// wsTransport is the WebSocket transport: one packet per message.
type wsTransport struct {
	c         *Conn
	ws        *websocket.Conn
	closeOnce sync.Once
}

func (t *wsTransport) name() string { return WebSocket }

// errDecode marks a malformed frame: a transport error, not a close.
type errDecode struct{ err error }

func (e *errDecode) Error() string { return e.err.Error() }
func (e *errDecode) Unwrap() error { return e.err }

// dialWebSocket opens a WebSocket to the server, with the session id once
// there is one (the upgrade).
func (c *Conn) dialWebSocket(ctx context.Context) (*wsTransport, error) {
	u := *c.opts.URL
	u.Scheme = "ws"
	if c.opts.URL.Scheme == "https" {
		u.Scheme = "wss"
	}
	u.RawQuery = c.query(WebSocket).Encode()
	d := websocket.Dialer{
		Proxy:             http.ProxyFromEnvironment,
		Jar:               c.opts.HTTPClient.Jar,
		EnableCompression: true,
	}
	if ht, ok := c.opts.HTTPClient.Transport.(*http.Transport); ok {
		d.Proxy = ht.Proxy
		d.TLSClientConfig = ht.TLSClientConfig
		d.NetDialContext = ht.DialContext
	}
	header := http.Header{}
	for k, v := range c.opts.Header {
		header[k] = append([]string(nil), v...)
	}
	ws, resp, err := d.DialContext(ctx, u.String(), header)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return nil, fmt.Errorf("failed to open websocket: %w", newHandshakeError(resp.StatusCode, body))
		}
		return nil, fmt.Errorf("failed to open websocket: %w", err)
	}
	ws.SetReadLimit(c.opts.MaxMessageSize)
	return &wsTransport{c: c, ws: ws}, nil
}

func (c *Conn) openWebSocket(ctx context.Context) error {
	t, err := c.dialWebSocket(ctx)
	if err != nil {
		return err
	}
	p, err := t.readWithin(ctx)
	if err == nil {
		err = c.onOpenPacket(p)
	}
	if err != nil {
		t.close()
		return fmt.Errorf("failed to open websocket transport: %w", err)
	}
	c.tr = t
	return nil
}

// readWithin reads one packet, giving up when ctx ends.
func (t *wsTransport) readWithin(ctx context.Context) (packet.Packet, error) {
	stop := context.AfterFunc(ctx, func() { _ = t.ws.SetReadDeadline(time.Now()) })
	p, err := t.read()
	if !stop() && err == nil {
		// ctx ended as the packet came: the deadline may be set now.
		err = ctx.Err()
	}
	if err != nil {
		return p, err
	}
	_ = t.ws.SetReadDeadline(time.Time{})
	return p, nil
}

func (t *wsTransport) read() (packet.Packet, error) {
	typ, data, err := t.ws.ReadMessage()
	if err != nil {
		return packet.Packet{}, err
	}
	if typ == websocket.BinaryMessage {
		return packet.DecodeBinary(data), nil
	}
	p, err := packet.DecodeText(data)
	if err != nil {
		return p, &errDecode{err}
	}
	return p, nil
}

// readLoop reads until the session ends or the socket fails.
func (c *Conn) readLoop(t *wsTransport) {
	defer c.wg.Done()
	for {
		p, err := t.read()
		if err != nil {
			var de *errDecode
			if errors.As(err, &de) || errors.Is(err, websocket.ErrReadLimit) {
				c.fail(ReasonTransportError, err)
			} else {
				// A closed socket, with or without a close frame, is a
				// "transport close" for the reference client.
				c.fail(ReasonTransportClose, err)
			}
			return
		}
		if !c.handle([]packet.Packet{p}) {
			return
		}
	}
}

var heads = [...][]byte{{'0'}, {'1'}, {'2'}, {'3'}, {'4'}, {'5'}, {'6'}}

func (t *wsTransport) write(_ context.Context, pkts []outPacket) error {
	_ = t.ws.SetWriteDeadline(time.Now().Add(t.c.opts.WriteTimeout))
	for _, p := range pkts {
		if err := t.writePacket(p); err != nil {
			return fmt.Errorf("failed to write to websocket: %w", err)
		}
	}
	return nil
}

func (t *wsTransport) writePacket(p outPacket) error {
	// Compression is used only if negotiated; small messages are not
	// worth it (the reference's threshold).
	t.ws.EnableWriteCompression(p.compress && len(p.Data) >= 1024)
	if p.Binary {
		return t.ws.WriteMessage(websocket.BinaryMessage, p.Data)
	}
	w, err := t.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	if p.Type < packet.Type(len(heads)) {
		if _, err := w.Write(heads[p.Type]); err != nil {
			return err
		}
	}
	if _, err := w.Write(p.Data); err != nil {
		return err
	}
	return w.Close()
}

// close sends a close frame (best effort, bounded) and closes the socket.
func (t *wsTransport) close() {
	t.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = t.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		_ = t.ws.Close()
	})
}
