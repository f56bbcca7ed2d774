package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// pollConn is a Socket.IO client on "/" over HTTP long-polling, with its
// own HTTP transport bound to one loopback source address.
type pollConn struct {
	hc     *http.Client
	url    string // with EIO, transport and sid
	cancel context.CancelFunc
	ctx    context.Context
}

// payloadSep separates packets in a polling payload (Engine.IO 4).
const payloadSep = 0x1e

func connectPolling(ctx context.Context, addr, path string, i int) (*pollConn, error) {
	src := sourceAddr(i)
	tr := &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: src}).DialContext,
		// One GET and one POST may be open at once.
		MaxConnsPerHost:     2,
		MaxIdleConnsPerHost: 2,
		DisableCompression:  true,
		IdleConnTimeout:     30 * time.Second,
	}
	lctx, cancel := context.WithCancel(context.Background())
	c := &pollConn{hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, cancel: cancel, ctx: lctx}
	base := "http://" + addr + path + "?EIO=4&transport=polling"
	fail := func(phase string, err error) (*pollConn, error) {
		c.close()
		return nil, &phaseError{phase: phase, err: err}
	}
	pkts, err := c.get(ctx, base)
	if err != nil {
		return fail("open", err)
	}
	o, err := parseOpen(pkts[0])
	if err != nil {
		return fail("open", err)
	}
	c.url = base + "&sid=" + url.QueryEscape(o.SID)
	if err := c.post(ctx, connectMsg); err != nil {
		return fail("connect", err)
	}
	for {
		pkts, err := c.get(ctx, c.url)
		if err != nil {
			return fail("connect", err)
		}
		for _, m := range pkts {
			p, err := parseMessage(m)
			if err != nil {
				return fail("connect", &protocolError{err.Error()})
			}
			switch {
			case p.typ == sioConnect:
				return c, nil
			case p.typ == sioConnectError:
				return fail("connect", &protocolError{"connect error: " + quoteShort(p.data)})
			}
		}
	}
}

func (c *pollConn) get(ctx context.Context, u string) ([][]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	body, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, &protocolError{"empty polling response"}
	}
	return bytes.Split(body, []byte{payloadSep}), nil
}

func (c *pollConn) post(ctx context.Context, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	_, err = c.do(req)
	return err
}

func (c *pollConn) do(req *http.Request) ([]byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{code: resp.StatusCode}
	}
	return body, nil
}

func (c *pollConn) close() {
	if c.url != "" {
		// Tell the server, so it does not wait for a ping timeout.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_ = c.post(ctx, []byte{eioClose})
		cancel()
	}
	c.cancel()
	c.hc.CloseIdleConnections()
}

// pollEcho is emit("echo", payload, ack) over polling: POST the event, then
// GET until the ack comes, answering pings on the way.
type pollEcho struct {
	pc  *pollConn
	arg []byte
	buf []byte
}

func (e *pollEcho) roundTrip(id int64) error {
	e.buf = appendEvent(e.buf[:0], "echo", id, e.arg)
	if err := e.pc.post(e.pc.ctx, e.buf); err != nil {
		return err
	}
	for {
		pkts, err := e.pc.get(e.pc.ctx, e.pc.url)
		if err != nil {
			return err
		}
		got := false
		for _, m := range pkts {
			p, err := parseMessage(m)
			if err != nil {
				return &protocolError{err.Error()}
			}
			switch {
			case p.other == eioPing:
				if err := e.pc.post(e.pc.ctx, pongMsg); err != nil {
					return err
				}
			case p.other == eioClose:
				return errServerClosed
			case p.typ == sioAck && p.id == id:
				if len(p.data) != len(e.arg)+2 {
					return &protocolError{fmt.Sprintf("ack with a different payload: %s", quoteShort(p.data))}
				}
				got = true
			}
		}
		if got {
			return nil
		}
	}
}
