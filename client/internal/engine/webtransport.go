package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

// WebTransportStream is the first bidirectional stream of a WebTransport
// session, which carries the Engine.IO packets framed as
// packet.AppendStreamFrame writes them. The QUIC library lives behind it
// (package client/webtransport), so that this package does not link QUIC.
type WebTransportStream interface {
	io.Reader
	io.Writer
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	// Close ends the write side (FIN), so that what was written still
	// arrives, and ends the session soon after: when the server closes it,
	// or after a short linger. It does not block.
	Close() error
}

// WebTransportDialFunc opens a WebTransport session to url (https, the
// Engine.IO path and query) with header, and opens its first
// bidirectional stream.
type WebTransportDialFunc func(ctx context.Context, url string, header http.Header) (WebTransportStream, error)

// wtTransport is the WebTransport transport: one stream, framed packets.
type wtTransport struct {
	c         *Conn
	st        WebTransportStream
	in        *errReader
	rd        *packet.StreamReader
	wbuf      []byte // the writer's (one write at a time, see writeLoop)
	closeOnce sync.Once
}

func (t *wtTransport) name() string { return WebTransport }

// errReader remembers the stream's read error, which tells a closed stream
// (transport close) from a bad frame (transport error).
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// dialWebTransport opens the session and its stream and sends the open
// packet: "0" for a new session, `0{"sid":"…"}` for the upgrade of this
// one, as the reference client does.
func (c *Conn) dialWebTransport(ctx context.Context) (*wtTransport, error) {
	u := *c.opts.URL
	u.Scheme = "https" // WebTransport is HTTP/3, always TLS
	u.RawQuery = c.query(WebTransport).Encode()
	st, err := c.opts.DialWebTransport(ctx, u.String(), c.opts.Header.Clone())
	if err != nil {
		return nil, fmt.Errorf("failed to open webtransport: %w", err)
	}
	in := &errReader{r: st}
	t := &wtTransport{c: c, st: st, in: in, rd: packet.NewStreamReader(in, c.opts.MaxMessageSize)}
	open := packet.Packet{Type: packet.Open}
	if c.id != "" {
		open.Data, _ = json.Marshal(struct {
			SID string `json:"sid"`
		}{c.id})
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetWriteDeadline(dl)
	}
	if err := t.writeFrames([]outPacket{{Packet: open}}); err != nil {
		t.close()
		return nil, fmt.Errorf("failed to send the open packet on webtransport: %w", err)
	}
	_ = st.SetWriteDeadline(time.Time{})
	return t, nil
}

// readWithin reads one packet, giving up when ctx ends. The packet's data
// is its own.
func (t *wtTransport) readWithin(ctx context.Context) (packet.Packet, error) {
	return readWithin(ctx, t.st.SetReadDeadline, t.read)
}

// read reads one packet and copies its data: the reader reuses its buffer,
// and Handler.OnMessage promises data that stays valid.
func (t *wtTransport) read() (packet.Packet, error) {
	p, err := t.rd.Next()
	if err != nil {
		return packet.Packet{}, err
	}
	p.Data = bytes.Clone(p.Data)
	return p, nil
}

// readLoopWT reads until the session ends or the stream fails.
func (c *Conn) readLoopWT(t *wtTransport) {
	defer c.wg.Done()
	for {
		p, err := t.read()
		if err != nil {
			if t.in.err != nil && (errors.Is(err, t.in.err) || errors.Is(err, io.ErrUnexpectedEOF)) {
				// The stream or the session ended, with or without an
				// error code: the reference client's "transport close".
				c.fail(ReasonTransportClose, err)
			} else {
				// A frame too long, empty or not a packet.
				c.fail(ReasonTransportError, fmt.Errorf("failed to read from webtransport: %w", err))
			}
			return
		}
		if !c.handle([]packet.Packet{p}) {
			return
		}
	}
}

func (t *wtTransport) write(_ context.Context, pkts []outPacket) error {
	_ = t.st.SetWriteDeadline(time.Now().Add(t.c.opts.WriteTimeout))
	if err := t.writeFrames(pkts); err != nil {
		return fmt.Errorf("failed to write to webtransport: %w", err)
	}
	return nil
}

// writeFrames writes pkts in one stream write; a large buffer is not kept
// for the next write, so an idle session does not hold its largest message.
func (t *wtTransport) writeFrames(pkts []outPacket) error {
	b := t.wbuf[:0]
	for _, p := range pkts {
		b = appendFrame(b, p.Packet)
	}
	_, err := t.st.Write(b)
	if cap(b) <= 64<<10 {
		t.wbuf = b[:0]
	} else {
		t.wbuf = nil
	}
	return err
}

// emptyBinaryFrame is an empty binary message as a text frame "b" (empty
// base64). A binary frame of length 0 is refused by the reference's
// stream decoder and by packet.StreamReader (an empty frame is an error),
// and a Socket.IO packet may well carry an empty attachment.
var emptyBinaryFrame = []byte{1, 'b'}

// appendFrame appends p as one stream frame.
func appendFrame(dst []byte, p packet.Packet) []byte {
	if p.Binary && len(p.Data) == 0 {
		return append(dst, emptyBinaryFrame...)
	}
	return packet.AppendStreamFrame(dst, p)
}

// probe sends "2probe" and expects "3probe", within ctx.
func (t *wtTransport) probe(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = t.st.SetWriteDeadline(dl)
	}
	if err := t.writeFrames([]outPacket{{Packet: packet.Packet{Type: packet.Ping, Data: []byte("probe")}}}); err != nil {
		return err
	}
	p, err := t.readWithin(ctx)
	if err != nil {
		return err
	}
	if p.Type != packet.Pong || string(p.Data) != "probe" {
		return fmt.Errorf("failed to probe webtransport: got %s packet %q", p.Type, p.Data)
	}
	return nil
}

// startReading runs the read loop of the transport that the session moved
// onto; the caller has added it to c.wg.
func (t *wtTransport) startReading() { go t.c.readLoopWT(t) }

// close ends the session: FIN on the stream (queued packets still arrive),
// and the reader, if any, stops at once.
func (t *wtTransport) close() {
	t.closeOnce.Do(func() {
		_ = t.st.SetReadDeadline(time.Now())
		_ = t.st.Close()
	})
}
