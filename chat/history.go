package chat

import (
	"context"
	"sync"
)

// History keeps the recent messages of each room, replayed to whoever
// joins. The default keeps them in memory; a cluster shares one (Redis).
type History interface {
	// Append stores m as the newest message of m.Room.
	Append(ctx context.Context, m Message) error
	// Recent returns up to n of the newest messages of room, oldest first.
	Recent(ctx context.Context, room string, n int) ([]Message, error)
}

// MemoryHistory is a History in memory: the last Limit messages of at most
// MaxRooms rooms. When a new room would pass MaxRooms, the room written
// least recently is forgotten, so memory stays bounded whatever clients do.
type MemoryHistory struct {
	limit    int
	maxRooms int

	mu    sync.Mutex
	rooms map[string]*roomLog
	clock uint64 // counts appends, to find the least recently written room
}

type roomLog struct {
	msgs    []Message // ring buffer of up to limit messages
	next    int       // where the next message goes once full
	written uint64
}

// NewMemoryHistory keeps the last limit messages (default 100) of up to
// maxRooms rooms (default 1000).
func NewMemoryHistory(limit, maxRooms int) *MemoryHistory {
	if limit <= 0 {
		limit = 100
	}
	if maxRooms <= 0 {
		maxRooms = 1000
	}
	return &MemoryHistory{limit: limit, maxRooms: maxRooms, rooms: make(map[string]*roomLog)}
}

// Append implements History.
func (h *MemoryHistory) Append(_ context.Context, m Message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	log := h.rooms[m.Room]
	if log == nil {
		if len(h.rooms) >= h.maxRooms {
			h.evictLocked()
		}
		log = &roomLog{}
		h.rooms[m.Room] = log
	}
	h.clock++
	log.written = h.clock
	if len(log.msgs) < h.limit {
		log.msgs = append(log.msgs, m)
		return nil
	}
	log.msgs[log.next] = m
	log.next = (log.next + 1) % h.limit
	return nil
}

func (h *MemoryHistory) evictLocked() {
	var oldest string
	var at uint64
	for name, log := range h.rooms {
		if oldest == "" || log.written < at {
			oldest, at = name, log.written
		}
	}
	delete(h.rooms, oldest)
}

// Recent implements History.
func (h *MemoryHistory) Recent(_ context.Context, room string, n int) ([]Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	log := h.rooms[room]
	if log == nil || n <= 0 {
		return []Message{}, nil
	}
	ordered := append(append([]Message{}, log.msgs[log.next:]...), log.msgs[:log.next]...)
	if len(ordered) > n {
		ordered = ordered[len(ordered)-n:]
	}
	return ordered, nil
}
