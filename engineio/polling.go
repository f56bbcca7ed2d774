package engineio

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/sockio/sockio/engineio/packet"
)

var errStop = errors.New("stop")

var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// servePoll answers a long-polling GET with everything queued, waiting
// until there is something to send.
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.state == stateClosed && !s.linger {
		// Closed, not yet out of the server's map: for the client it is
		// gone, as the reference's session is once closed (its last poll
		// already had the close packet).
		s.mu.Unlock()
		writeError(w, CodeUnknownSID, "")
		return
	}
	if s.poll != nil {
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		s.finish(ReasonTransportError, ErrPollOverlap, packet.Close)
		return
	}
	wake := make(chan struct{}, 1)
	s.poll = wake
	// A GET after the upgrade packet is late: see order.go.
	s.pollLate, s.pollSince = s.transport != Polling || s.upgradePacketWaitingLocked(), time.Now()
	var (
		pkts  []frame
		owned bool // pkts came from the queue and goes back to it
		final bool // the closed session's last answer
		one   [1]frame
	)
	for {
		if s.state == stateClosed {
			one[0] = frame{Packet: packet.Packet{Type: s.pollFinal}}
			pkts, final = one[:], true
			break
		}
		if len(s.queue) > 0 && s.transport == Polling {
			if !s.delivering {
				pkts, owned = s.takeForPollLocked(), true
				break
			}
			// A POST is handing its packets over: wait (see deliverPost).
		} else if s.transport != Polling && s.pollLate {
			// Sent after the upgrade packet: refused as the reference
			// refuses a poll once upgraded.
			s.releasePollLocked(wake)
			s.mu.Unlock()
			writeError(w, CodeBadRequest, "")
			return
		} else if s.transport != Polling || s.noopPoll == wake {
			// Upgraded, or the upgrade check: release the client's poll
			// so it can pause.
			one[0] = frame{Packet: packet.Packet{Type: packet.Noop}}
			pkts = one[:]
			break
		}
		hook := s.srv.opts.hooks
		s.mu.Unlock()
		if hook != nil && hook.pollParked != nil {
			hook.pollParked(s)
		}
		select {
		case <-wake:
		case <-r.Context().Done():
			s.mu.Lock()
			s.releasePollLocked(wake)
			s.mu.Unlock()
			s.finish(ReasonTransportError, ErrPollAborted, packet.Close)
			return
		}
		s.mu.Lock()
	}
	s.releasePollLocked(wake)
	closing := owned && s.state == stateClosing && pkts[len(pkts)-1].Type == packet.Close
	s.mu.Unlock()

	bp := payloadPool.Get().(*[]byte)
	body := (*bp)[:0]
	ctype := "text/plain; charset=UTF-8"
	if s.eio3 != nil {
		body, ctype = s.eio3.appendPollBody(body, pkts)
	} else {
		for i := range pkts {
			if i > 0 {
				body = append(body, packet.Separator)
			}
			body = packet.AppendText(body, pkts[i].Packet)
		}
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if s.srv.hasHeaderHooks() {
		s.srv.applyHeaders(h, r, isHandshake(r))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	s.srv.stats.sent(pkts)
	if cap(body) <= 1<<20 {
		*bp = body[:0]
		payloadPool.Put(bp)
	}
	if owned {
		s.mu.Lock()
		s.giveBackLocked(pkts)
		s.mu.Unlock()
	}
	if closing {
		s.finish("", nil, packet.Close)
	}
	if final {
		s.srv.unlinger(s) // its one GET came: the next is refused
	}
}

// releasePollLocked ends the pending poll wake.
func (s *Session) releasePollLocked(wake chan struct{}) {
	if s.poll == wake {
		s.poll = nil
		s.pollLate = false
	}
	if s.noopPoll == wake {
		s.noopPoll = nil
	}
}

// servePost handles a polling POST: a payload of packets from the client.
func (s *Session) servePost(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") == "application/octet-stream" && s.eio3 == nil {
		// Engine.IO 4 sends binary as base64 text: a binary body is invalid.
		w.WriteHeader(http.StatusBadRequest)
		s.finish(ReasonTransportError, ErrBinaryBody, packet.Close)
		return
	}
	rc := http.NewResponseController(w)
	s.mu.Lock()
	if s.state == stateClosed {
		// It ended since ServeHTTP found it: nothing would cut this read.
		s.mu.Unlock()
		writeError(w, CodeUnknownSID, "")
		return
	}
	if s.posting != nil {
		// Under mu: once the first POST has returned, its connection may
		// be reading its next request, which this must not cut.
		s.posting()
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		s.finish(ReasonTransportError, ErrPollOverlap, packet.Close)
		return
	}
	// A second POST while this one runs cuts this one off, as the
	// reference does: expiring the read deadline ends its body read.
	s.posting = func() { _ = rc.SetReadDeadline(time.Now()) }
	s.postReading = true // and the end of the session cuts it off too
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = nil
		s.mu.Unlock()
	}()

	max := s.srv.opts.MaxHTTPBufferSize
	if r.ContentLength > max {
		s.refuseTooLarge(w)
		return
	}
	body, err := s.readPost(rc, r, max)
	if err != nil {
		s.finish(ReasonTransportError, err, packet.Close)
		// Drop the connection rather than answer: the request is broken.
		if conn, _, herr := rc.Hijack(); herr == nil {
			_ = conn.Close()
		} else {
			w.WriteHeader(http.StatusBadRequest)
		}
		return
	}
	if int64(len(body)) > max {
		s.refuseTooLarge(w)
		return
	}
	s.deliverPost(body, r.Header.Get("Content-Type"))
	if hook := s.srv.opts.hooks; hook != nil && hook.postDelivered != nil {
		hook.postDelivered(s)
	}
	// A GET handled from now on comes after this answer: see order.go.
	s.mu.Lock()
	linger := s.linger
	s.mu.Unlock()
	if linger {
		s.srv.unlinger(s)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	if s.srv.hasHeaderHooks() {
		s.srv.applyHeaders(h, r, false)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// readPost reads a POST body, up to max+1 bytes, within PostTimeout: a
// body trickled in would else hold its connection, goroutine and buffer
// for as long as the client likes.
func (s *Session) readPost(rc *http.ResponseController, r *http.Request, max int64) ([]byte, error) {
	timeout := s.srv.opts.PostTimeout
	var deadline time.Time
	// An http.Server's ReadTimeout is a deadline net/http has set already:
	// keep it when it is the shorter.
	if hs, _ := r.Context().Value(http.ServerContextKey).(*http.Server); hs == nil || hs.ReadTimeout <= 0 || hs.ReadTimeout > timeout {
		deadline = time.Now().Add(timeout)
		if rc.SetReadDeadline(deadline) != nil {
			deadline = time.Time{} // not supported by this ResponseWriter
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	s.mu.Lock()
	s.postReading = false
	s.mu.Unlock()
	if !deadline.IsZero() {
		// Read: what follows (delivery, the answer, net/http's background
		// read) is not the body's to bound.
		_ = rc.SetReadDeadline(time.Time{})
		if errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(deadline) {
			err = fmt.Errorf("%w (%v): %w", ErrPostTimeout, timeout, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("engineio: read polling POST body: %w", err)
	}
	return body, nil
}

// deliverPost hands a POST's packets to the session. Once upgraded, the
// websocket reader delivers: a late POST's packets are dropped, as the
// reference drops a discarded transport's. postMu keeps the switch from
// landing mid-POST; deferred, so a Handler that panics (net/http recovers
// it) does not leave it held.
//
// The reference handles a POST in one tick: what its packets make the
// server send goes out after it, and not at all if a bad packet in it
// closes the session. So while a POST delivers (s.delivering), a pending
// poll waits, and a packet that does not decode closes the session before
// the poll is let go. A POST paused by its Handler lets polls go meanwhile:
// the replies it waits for may be what unblocks the Handler.
func (s *Session) deliverPost(body []byte, contentType string) {
	s.postMu.Lock()
	defer s.postMu.Unlock()
	s.setDelivering(true)
	defer s.setDelivering(false)
	decode := func(fn func(packet.Packet) error) error { return packet.DecodePayload(body, 0, fn) }
	if s.eio3 != nil {
		decode = func(fn func(packet.Packet) error) error { return s.eio3.decodePost(body, contentType, fn) }
	}
	err := decode(func(p packet.Packet) error {
		if s.Transport() != Polling {
			return errStop
		}
		if !s.onPacket(p) {
			return errStop
		}
		if s.paused.Load() {
			s.setDelivering(false)
			s.waitWhilePaused()
			s.setDelivering(true)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		s.finish(ReasonParseError, err, packet.Close)
	}
}

func (s *Session) setDelivering(on bool) {
	s.mu.Lock()
	s.delivering = on
	if !on {
		s.wakePollLocked()
	}
	s.mu.Unlock()
}

// refuseTooLarge answers an oversized POST with 413. As with the reference,
// the client then closes the session itself (its failed POST is a transport
// error, and it sends a close packet); one that does not is closed after a
// short grace period.
func (s *Session) refuseTooLarge(w http.ResponseWriter) {
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	grace := min(s.srv.opts.PingTimeout, tooLargeGrace)
	time.AfterFunc(grace, func() { s.finish(ReasonTransportError, ErrPayloadTooLarge, packet.Noop) })
}

const tooLargeGrace = 2 * time.Second

// takeForPollLocked takes the queue for a poll response. A closing
// session's close packet goes out alone in the next response: the client
// handles Socket.IO packets a tick later than the close in the same
// payload, so together the close would overtake them.
func (s *Session) takeForPollLocked() []frame {
	if s.eio3 != nil && s.eio3.openOnly {
		return s.takeOpenLocked()
	}
	n := len(s.queue)
	if s.state != stateClosing || n < 2 || s.queue[n-1].Type != packet.Close {
		return s.takeLocked()
	}
	last := s.queue[n-1]
	s.queue = s.queue[:n-1]
	pkts := s.takeLocked()
	s.queue = append(s.queue, last)
	return pkts
}
