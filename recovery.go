package sockio

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"sync"
	"time"

	"github.com/sockio/sockio/internal/rooms"
	"github.com/sockio/sockio/parser"
)

// RecoveryOptions turn on connection-state recovery: a client that comes
// back within MaxDisconnectionDuration gets its socket id, rooms and data
// back, and the events it missed, as with the reference's
// connectionStateRecovery option.
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long a session is kept (default 2 min).
	MaxDisconnectionDuration time.Duration
	// SkipMiddlewares lets a recovered socket skip the namespace middlewares.
	SkipMiddlewares bool
	// MaxPackets bounds the packets kept per namespace for replay (default
	// 10,000): older ones are dropped, and a client whose offset is gone is
	// not recovered (it connects as a new socket), instead of memory growing.
	MaxPackets int
	// MaxBytes bounds the bytes of the packets kept per namespace (default
	// 16 MiB), oldest dropped first: MaxPackets alone lets large packets
	// (a chat's welcome with its history, say) hold 10,000 times their
	// size for the whole window, which clients that connect in a loop
	// would turn into gigabytes.
	MaxBytes int
	// RestoreTimeout bounds how long a recovery may wait for the adapter
	// (a cluster's broker) to take the session and read what the client
	// missed (default 5 s); past it the client connects as a new socket.
	RestoreTimeout time.Duration
}

// Session is a disconnected socket's state, kept for recovery.
type Session struct {
	SID   string
	PID   string
	Rooms []string
	Data  any
}

// recoverableReasons are the disconnections after which a session is kept:
// the connection failed, the client did not choose to leave.
var recoverableReasons = map[string]bool{
	"transport error":      true,
	"transport close":      true,
	"forced close":         true,
	"ping timeout":         true,
	"server shutting down": true,
	"forced server close":  true,
}

func (o *RecoveryOptions) withDefaults() *RecoveryOptions {
	c := *o
	if c.MaxDisconnectionDuration <= 0 {
		c.MaxDisconnectionDuration = 2 * time.Minute
	}
	if c.MaxPackets <= 0 {
		c.MaxPackets = 10_000
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 16 << 20
	}
	if c.RestoreTimeout <= 0 {
		c.RestoreTimeout = 5 * time.Second
	}
	return &c
}

// recoveryStore keeps sessions and recent packets for the in-memory adapter.
type recoveryStore struct {
	opts   *RecoveryOptions
	prefix string // offsets of another process never match ours

	mu       sync.Mutex
	sessions map[string]*storedSession // by pid
	packets  []storedPacket            // oldest first
	first    uint64                    // sequence number of packets[0]
	bytes    int                       // of the packets kept (packetSize)
	next     uint64
}

type storedSession struct {
	Session
	timer *time.Timer
}

type storedPacket struct {
	seq    uint64
	at     time.Time
	rooms  []string
	except []string
	p      *parser.Packet
}

func newRecoveryStore(opts *RecoveryOptions) *recoveryStore {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &recoveryStore{
		opts:     opts,
		prefix:   base64.RawURLEncoding.EncodeToString(b[:]) + "-",
		sessions: make(map[string]*storedSession),
	}
}

// store records an EVENT for replay and appends its offset as the last
// argument, where the official client reads it; it returns the offset.
func (r *recoveryStore) store(p *parser.Packet, opts *BroadcastOptions) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions == nil {
		return "" // closed
	}
	seq := r.next
	r.next++
	offset := r.prefix + strconv.FormatUint(seq, 36)
	p.Data = appendArg(p.Data, offset)
	now := time.Now()
	r.packets = append(r.packets, storedPacket{
		seq: seq, at: now, p: p,
		rooms:  append([]string(nil), opts.Rooms...),
		except: append([]string(nil), opts.Except...),
	})
	r.bytes += packetSize(p)
	// Drop what is too old, too many or too big, from the front.
	cut := 0
	horizon := now.Add(-r.opts.MaxDisconnectionDuration)
	for cut < len(r.packets) && (len(r.packets)-cut > r.opts.MaxPackets || r.bytes > r.opts.MaxBytes || r.packets[cut].at.Before(horizon)) {
		r.bytes -= packetSize(r.packets[cut].p)
		cut++
	}
	if cut > 0 {
		clear(r.packets[:cut])
		r.packets = r.packets[cut:]
		r.first += uint64(cut)
	}
	return offset
}

// packetSize is what a kept packet is counted for: its data and
// attachments.
func packetSize(p *parser.Packet) int {
	n := len(p.Data)
	for _, a := range p.Attachments {
		n += len(a)
	}
	return n
}

// appendArg adds a JSON string as the last element of a JSON array.
func appendArg(data []byte, s string) []byte {
	out := make([]byte, 0, len(data)+len(s)+3)
	out = append(out, data[:len(data)-1]...)
	if len(data) > 2 {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"', ']')
}

func (r *recoveryStore) persist(s Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions == nil {
		return // closed: the server is shutting down
	}
	if old := r.sessions[s.PID]; old != nil {
		old.timer.Stop()
	}
	st := &storedSession{Session: s}
	st.timer = time.AfterFunc(r.opts.MaxDisconnectionDuration, func() {
		r.mu.Lock()
		if r.sessions[s.PID] == st {
			delete(r.sessions, s.PID)
		}
		r.mu.Unlock()
	})
	r.sessions[s.PID] = st
}

// take returns and forgets the session kept under pid, nil if none.
func (r *recoveryStore) take(pid string) *Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.sessions[pid]
	if st == nil {
		return nil
	}
	st.timer.Stop()
	delete(r.sessions, pid)
	s := st.Session
	return &s
}

// missed returns the kept events sent to rooms after offset, and the
// offset of the newest kept event (offset itself when none came after
// it); ok is false when offset is not, or no longer, kept.
func (r *recoveryStore) missed(in []string, offset string) (missed []*parser.Packet, through string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.seq(offset)
	if !ok || seq < r.first || seq >= r.next || len(r.packets) == 0 {
		return nil, "", false
	}
	for _, sp := range r.packets[seq-r.first+1:] {
		if rooms.Included(in, sp.rooms, sp.except) {
			missed = append(missed, sp.p)
		}
	}
	return missed, r.prefix + strconv.FormatUint(r.next-1, 36), true
}

// seq reads one of this store's offsets.
func (r *recoveryStore) seq(offset string) (uint64, bool) {
	if len(offset) <= len(r.prefix) || offset[:len(r.prefix)] != r.prefix {
		return 0, false
	}
	seq, err := strconv.ParseUint(offset[len(r.prefix):], 36, 64)
	return seq, err == nil
}

// after reports whether offset a was given after offset b; an offset that
// is not this store's is not comparable, and counts as later.
func (r *recoveryStore) after(a, b string) bool {
	sa, okA := r.seq(a)
	sb, okB := r.seq(b)
	return !okA || !okB || sa > sb
}

func (r *recoveryStore) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.sessions {
		st.timer.Stop()
	}
	r.sessions = nil
	r.packets = nil
	r.bytes = 0
}
