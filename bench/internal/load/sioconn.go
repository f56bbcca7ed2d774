package load

import (
	"context"
	"strings"
)

// sioConn is a Socket.IO client on namespace "/" over a WebSocket.
type sioConn struct {
	ws  *wsConn
	sid string // the Socket.IO socket id from the CONNECT answer
}

var (
	pongMsg    = []byte{eioPong}
	connectMsg = []byte{eioMessage, sioConnect}
)

// connectSIO runs the whole Socket.IO connection on the i-th source
// address: WebSocket upgrade, Engine.IO open packet, Socket.IO CONNECT and
// its answer. ctx bounds all of it.
func connectSIO(ctx context.Context, addr, path string, i, readBuf int) (*sioConn, error) {
	return connectSIOWith(ctx, addr, path, i, readBuf, connectMsg, nil)
}

// connectSIOWith is connectSIO with the Engine.IO message of the CONNECT
// packet to send (connectMsg, or one with an auth payload); when answer is
// not nil it receives a copy of the CONNECT answer's data.
func connectSIOWith(ctx context.Context, addr, path string, i, readBuf int, connect []byte, answer *[]byte) (*sioConn, error) {
	ws, err := dialWS(ctx, addr, path+"?EIO=4&transport=websocket", i, readBuf)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.nc.SetDeadline(dl)
	}
	fail := func(phase string, err error) (*sioConn, error) {
		ws.nc.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, &phaseError{phase: phase, err: err}
	}
	_, msg, err := ws.read()
	if err != nil {
		return fail("open", err)
	}
	if _, err := parseOpen(msg); err != nil {
		return fail("open", err)
	}
	if err := ws.writeText(connect); err != nil {
		return fail("connect", err)
	}
	c := &sioConn{ws: ws}
	for {
		p, err := c.next()
		if err != nil {
			return fail("connect", err)
		}
		switch p.typ {
		case sioConnect:
			// 40{"sid":"..."}: keep the id only for diagnostics.
			c.sid = strings.TrimSuffix(strings.TrimPrefix(string(p.data), `{"sid":"`), `"}`)
			if answer != nil {
				*answer = append((*answer)[:0], p.data...)
			}
			_ = ws.nc.SetDeadline(noDeadline)
			return c, nil
		case sioConnectError:
			return fail("connect", &protocolError{"connect error: " + quoteShort(p.data)})
		}
	}
}

// next returns the next Socket.IO packet, answering Engine.IO pings on the
// way. Its data is valid until the next call.
func (c *sioConn) next() (sioPacket, error) {
	for {
		op, msg, err := c.ws.read()
		if err != nil {
			return sioPacket{}, err
		}
		if op != opText {
			continue // binary attachments: the bench sends none
		}
		p, err := parseMessage(msg)
		if err != nil {
			return p, &protocolError{err.Error()}
		}
		switch p.other {
		case 0:
			return p, nil
		case eioPing:
			if err := c.ws.writeText(pongMsg); err != nil {
				return p, err
			}
		case eioClose:
			return p, errServerClosed
		}
	}
}

// emit sends an encoded Engine.IO message.
func (c *sioConn) emit(msg []byte) error { return c.ws.writeText(msg) }

func (c *sioConn) close() { c.ws.close() }
