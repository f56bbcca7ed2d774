package engineio

import (
	"net/http"
	"time"
)

// Requests of one session may come over several connections at once: a
// polling GET and POST, or a poll and the websocket of an upgrade. The
// reference, on one event loop, handles them in the order it reads them;
// here each connection has its goroutine and the scheduler may run a later
// one first. These rules give the single event loop's outcome whatever
// the scheduling:
//
//   - A GET that starts during a probed upgrade looks at the websocket's
//     unread bytes (wsconn's Unread: what the kernel holds plus what wsconn
//     buffered, and a packet the upgrade read but has not handled). None:
//     the upgrade packet has not come, so it is an ordinary pending poll,
//     answered 200 by the upgrade check or by the upgrade itself. Some:
//     the event loop would have read them first, so the GET is late and
//     held: if the upgrade completes it is answered 400 (the reference's
//     "transport mismatch"); if the upgrade is abandoned it becomes an
//     ordinary poll; still held a whole check period after it came, it is
//     let go with a noop, as the reference lets go any pending poll. Where
//     the count is unknown (not Linux, TLS, a compressed websocket), every
//     GET during a probed upgrade is held that way.
//   - A GET pending when the probe comes is answered with a noop by the
//     upgrade check, every 100ms while the upgrade runs, as the
//     reference's check interval does, and only if it is still pending:
//     packets sent meanwhile go in it instead.
//   - A close packet POSTed while no GET is pending leaves the session
//     findable, for one GET, until the POST writes its answer (servePost
//     ends it just before; net/http sends that "ok" only once the handler
//     returns), so a GET the client sent after it saw "ok" is refused
//     (unknown session) as the reference refuses it, while a GET handled
//     while the POST still runs (sent before the POST, or with it) gets
//     the noop the reference gives a pending poll.
//
// What is left to scheduling is a window of a few instructions: between
// the kernel read and wsconn counting the bytes, and between Read
// returning and upgradeInHand being set; a GET handled exactly then is an
// ordinary poll (200, not 400).

// upgradePacketWaitingLocked reports whether a GET starting now comes after
// bytes the probing websocket has not handled yet (see above); under mu.
func (s *Session) upgradePacketWaitingLocked() bool {
	if !s.probed || s.transport != Polling {
		return false
	}
	if s.upgradeInHand.Load() || s.probeWS == nil {
		return true
	}
	n, err := s.probeWS.Unread()
	return err != nil || n > 0 // unknown: held, as the safe side
}

// startUpgradeCheck (re)starts the upgrade check after a probe; under mu.
func (s *Session) startUpgradeCheckLocked() {
	s.checkGen++
	gen := s.checkGen
	time.AfterFunc(s.srv.opts.upgradeCheck, func() { s.upgradeCheck(gen) })
}

// upgradeCheck lets a pending poll go with a noop, so the client can
// pause polling and finish the upgrade; it runs every check period while
// the probed upgrade gen lasts.
func (s *Session) upgradeCheck(gen uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.checkGen || !s.probed || s.state == stateClosed || s.transport != Polling {
		return
	}
	every := s.srv.opts.upgradeCheck
	if s.poll != nil && (!s.pollLate || time.Since(s.pollSince) >= every) {
		s.noopPoll = s.poll
		s.wakePollLocked()
	}
	time.AfterFunc(every, func() { s.upgradeCheck(gen) })
}

// linger keeps s findable by one GET until the POST that closed it
// returns (see above), which then calls unlinger.
func (srv *Server) linger(s *Session) {
	srv.mu.Lock()
	if srv.lingering == nil {
		srv.lingering = make(map[string]*Session)
	}
	srv.lingering[s.id] = s
	srv.mu.Unlock()
}

func (srv *Server) unlinger(s *Session) {
	srv.mu.Lock()
	if srv.lingering[s.id] == s {
		delete(srv.lingering, s.id)
	}
	srv.mu.Unlock()
}

// serveLingering answers the one GET a lingering session waits for; it
// reports false if there is no such session.
func (srv *Server) serveLingering(w http.ResponseWriter, r *http.Request, sid, transport string) bool {
	if r.Method != http.MethodGet || transport != Polling {
		return false
	}
	srv.mu.Lock()
	s := srv.lingering[sid]
	delete(srv.lingering, sid)
	srv.mu.Unlock()
	if s == nil {
		return false
	}
	s.servePoll(w, r) // closed: answers its final noop
	return true
}
