package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sockio/sockio/engineio/packet"
	"github.com/sockio/sockio/internal/wsconn"
)

// The WebSocket library is reached through internal/wsconn only, as on the
// server (docs/decisions.md).

// compressThreshold: smaller messages are not worth compressing (the
// reference's perMessageDeflate threshold).
const compressThreshold = 1024

// wsTransport is the WebSocket transport: one packet per message.
type wsTransport struct {
	c         *Conn
	ws        *wsconn.Conn
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
	// The HTTP client's cookies, proxy and TLS settings serve the
	// handshake too, so both transports reach the same server the same way.
	o := wsconn.ClientOptions{
		DialOptions: wsconn.DialOptions{
			Header:               c.opts.Header.Clone(),
			Compression:          true,
			CompressionThreshold: compressThreshold,
			ReadLimit:            c.opts.MaxMessageSize,
		},
		Jar:   c.opts.HTTPClient.Jar,
		Proxy: http.ProxyFromEnvironment,
	}
	if ht, ok := c.opts.HTTPClient.Transport.(*http.Transport); ok {
		o.Proxy = ht.Proxy
		o.TLSClientConfig = ht.TLSClientConfig
		o.NetDialContext = ht.DialContext
	}
	ws, resp, err := wsconn.DialClient(ctx, u.String(), o)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return nil, fmt.Errorf("failed to open websocket: %w", newHandshakeError(resp.StatusCode, body))
		}
		return nil, fmt.Errorf("failed to open websocket: %w", err)
	}
	return &wsTransport{c: c, ws: ws}, nil
}

// readWithin reads one packet, giving up when ctx ends.
func (t *wsTransport) readWithin(ctx context.Context) (packet.Packet, error) {
	return readWithin(ctx, t.ws.SetReadDeadline, t.read)
}

func (t *wsTransport) read() (packet.Packet, error) {
	typ, data, err := t.ws.Read()
	if err != nil {
		return packet.Packet{}, err
	}
	if typ == wsconn.Binary {
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
			if errors.As(err, &de) || errors.Is(err, wsconn.ErrMessageTooBig) || errors.Is(err, wsconn.ErrInvalidUTF8) {
				// Text that is not UTF-8 (closed with 1007) is an error of
				// the transport, as the reference client's ws reports it.
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
	// Compression applies only if negotiated, and from the threshold up.
	if p.Binary {
		return t.ws.Write(wsconn.Binary, nil, p.Data, p.compress)
	}
	var head []byte
	if p.Type < packet.Type(len(heads)) {
		head = heads[p.Type]
	}
	return t.ws.Write(wsconn.Text, head, p.Data, p.compress)
}

// close sends a close frame (best effort, bounded) and closes the socket.
func (t *wsTransport) close() {
	t.closeOnce.Do(func() { _ = t.ws.Close(wsconn.CloseNormal, "") })
}
