package chat

import (
	"sync"
	"time"
)

// Caps on the lists sent to clients: each goes to many people, so its
// size multiplies. The counts stay exact.
const (
	// MaxListedUsers bounds a room's online list (its count is exact).
	MaxListedUsers = 200
	// MaxListedRooms bounds the room list: the default room, then the
	// busiest.
	MaxListedRooms = 50
)

// listBurst is how many list updates go out at once, as each change
// happens, before they are coalesced.
const listBurst = 20

// lists coalesces the online lists and the room list. Each join, leave
// or rename changes them; sending them at once to everyone concerned made
// n joins cost n² list messages (and a list is n long). Updates are now a
// token bucket: while there are tokens (a quiet chat) a change sends its
// lists at once, in the handler, as before; past that, changes only mark
// their rooms, and one flush per interval sends each marked room its
// newest list and everyone the room list.
type lists struct {
	interval time.Duration
	send     func(rooms []string, roomList bool)

	mu        sync.Mutex
	rooms     map[string]bool // rooms whose online list changed
	roomList  bool            // whether the room list (counts) changed
	scheduled bool            // a flush is scheduled
	tokens    bucket

	// sendMu orders the sends: each takes its snapshot (in send) after
	// the previous one was sent, so no client gets an older list after a
	// newer one.
	sendMu sync.Mutex
}

func newLists(interval time.Duration, send func(rooms []string, roomList bool)) *lists {
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	return &lists{interval: interval, send: send, rooms: make(map[string]bool)}
}

func (l *lists) rate() rate { return rate{listBurst, l.interval} }

// changed marks rooms' online lists, and the room list if counts changed,
// and sends them now or with the next flush.
func (l *lists) changed(counts bool, rooms ...string) {
	l.mu.Lock()
	for _, r := range rooms {
		l.rooms[r] = true
	}
	l.roomList = l.roomList || counts
	if l.scheduled {
		l.mu.Unlock() // the flush will carry it
		return
	}
	now := time.Now()
	if l.tokens.refill(l.rate(), now) {
		l.tokens.tokens--
		l.sendLocked() // unlocks
		return
	}
	l.scheduled = true
	wait := time.Duration((1 - l.tokens.tokens) * float64(l.interval))
	time.AfterFunc(wait, l.flush)
	l.mu.Unlock()
}

func (l *lists) flush() {
	l.mu.Lock()
	l.scheduled = false
	l.tokens.refill(l.rate(), time.Now())
	l.tokens.tokens-- // the flush's own: it may go below zero, delaying the next
	l.sendLocked()
}

// sendLocked sends what is marked; it is called with l.mu held and
// returns with it released.
func (l *lists) sendLocked() {
	rooms := make([]string, 0, len(l.rooms))
	for r := range l.rooms {
		rooms = append(rooms, r)
	}
	clear(l.rooms)
	roomList := l.roomList
	l.roomList = false
	l.mu.Unlock()
	if len(rooms) > 0 || roomList {
		l.sendMu.Lock()
		defer l.sendMu.Unlock()
		l.send(rooms, roomList)
	}
}
