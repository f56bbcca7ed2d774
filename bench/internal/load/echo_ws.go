package load

import (
	"context"
	"fmt"
	"time"
)

// wsEchoLoop drives every WebSocket client from one event loop: an answer
// sends that client's next request at once. timeline runs beside it and
// sets run.stopping when the measured window is over.
func wsEchoLoop(ctx context.Context, run *echoRun, clients []*wsConn, payload string, timeline func()) error {
	l, err := newLoop()
	if err != nil {
		return err
	}
	defer l.close()
	raw := run.p.Raw
	arg := stringArg(payload)
	send := func(c *lconn) {
		if raw {
			c.wbuf = append(c.wbuf[:0], payload...)
		} else {
			c.wbuf = appendEvent(c.wbuf[:0], "echo", c.next, arg)
		}
		run.total.Add(1)
		c.sent = time.Now()
		if err := c.ws.writeText(c.wbuf); err != nil {
			run.fail(err)
			l.drop(c, err)
		}
	}
	var lcs []*lconn
	for i, ws := range clients {
		if ws == nil {
			continue
		}
		c, err := l.add(ws, i)
		if err != nil {
			return err
		}
		lcs = append(lcs, c)
	}
	onMsg := func(c *lconn, op byte, msg []byte) {
		if raw {
			if op != opText || len(msg) != len(payload) {
				run.fail(&protocolError{fmt.Sprintf("echo of %d bytes, sent %d", len(msg), len(payload))})
				return
			}
		} else {
			pk, ok := sioMessage(c, op, msg, run.fail)
			if !ok || pk.typ != sioAck || pk.id != c.next {
				return // not the answer this client waits for
			}
			if len(pk.data) != len(arg)+2 {
				run.fail(&protocolError{"ack with a different payload: " + quoteShort(pk.data)})
			}
		}
		if run.answered(c.sent) {
			c.next++
			send(c)
		}
	}
	done := make(chan struct{})
	go func() { timeline(); close(done) }()
	for _, c := range lcs {
		send(c)
	}
	for {
		select {
		case <-done:
			return nil
		default:
		}
		if ctx.Err() != nil || l.open() == 0 {
			run.stopping.Store(true)
			<-done
			if l.open() == 0 {
				return fmt.Errorf("echo: every connection closed (%v)", run.firstErr.Load())
			}
			return nil
		}
		if _, err := l.poll(20*time.Millisecond, onMsg); err != nil {
			run.stopping.Store(true)
			<-done
			return err
		}
	}
}

// sioMessage decodes a Socket.IO packet from a loop message, answering
// Engine.IO pings; ok is false for anything that is not a packet.
func sioMessage(c *lconn, op byte, msg []byte, fail func(error)) (sioPacket, bool) {
	if op != opText {
		return sioPacket{}, false
	}
	p, err := parseMessage(msg)
	if err != nil {
		fail(&protocolError{err.Error()})
		return p, false
	}
	switch p.other {
	case 0:
		return p, true
	case eioPing:
		if err := c.ws.writeText(pongMsg); err != nil {
			fail(err)
		}
	case eioClose:
		fail(errServerClosed)
	}
	return p, false
}
