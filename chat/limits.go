package chat

import (
	"container/list"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// An action is what a client may do, each with its own rate limit.
type action int

const (
	actMessage  action = iota // message and private: what people read
	actJoin                   // join and rename: each tells a room, updates its lists
	actTyping                 // typing true: an event to a whole room
	actRooms                  // rooms: a FetchSockets across the cluster
	actAnnounce               // a new connection's "joined" line (per address only)
	numActions
)

// rate is a token bucket's shape: burst at once, then one per every.
// A zero burst means no limit at that level.
type rate struct {
	burst int
	every time.Duration
}

// The limits per socket keep one page honest; the limits per client
// address keep a script with many sockets from multiplying its budget.
// A page's own client throttles typing to one per 2 s and people type
// at most a few messages a second, so a person never meets them.
var (
	socketRates = [numActions]rate{
		actMessage: {10, 500 * time.Millisecond}, // 10 at once, then 2 a second
		actJoin:    {5, 2 * time.Second},
		// A start, a stop on sending, a start on typing the next line
		// within the second: two at once.
		actTyping: {2, time.Second},
		actRooms:  {5, 2 * time.Second},
	}
	// An address may be a household or an office behind NAT: a few
	// people's worth.
	addressRates = [numActions]rate{
		actMessage:  {30, 200 * time.Millisecond},
		actJoin:     {20, 500 * time.Millisecond},
		actTyping:   {10, 250 * time.Millisecond},
		actRooms:    {20, 500 * time.Millisecond},
		actAnnounce: {10, 10 * time.Second},
	}
)

// addressIdle is how long an address's buckets are kept unused: every
// bucket is full again well before, so forgetting it changes nothing.
const addressIdle = 5 * time.Minute

type bucket struct {
	tokens float64
	last   time.Time
}

// refill brings b up to now and reports whether a token is there.
func (b *bucket) refill(r rate, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = float64(r.burst)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(r.burst), b.tokens+float64(d)/float64(r.every))
	}
	b.last = now
	return b.tokens >= 1
}

// limiter is one socket's buckets, one per action.
type limiter struct {
	buckets [numActions]bucket
	// typingOn is whether the last typing event passed on was a start: a
	// stop is passed on only after a start, so alternating true and false
	// cannot double the rate (a stop used to reset the throttle).
	typingOn bool
}

// limits holds the buckets of the client addresses seen lately, at most
// max of them: when a new address would pass max, the one used least
// recently is forgotten, so an attacker with many addresses costs memory
// bounded by max, not by the addresses.
type limits struct {
	max int

	mu    sync.Mutex
	lru   *list.List // of *addressEntry, the most recently used first
	byKey map[string]*list.Element
}

type addressEntry struct {
	key     string
	used    time.Time
	buckets [numActions]bucket
}

func newLimits(max int) *limits {
	if max <= 0 {
		max = 10000
	}
	return &limits{max: max, lru: list.New(), byKey: make(map[string]*list.Element)}
}

// allow takes a token for act from both the socket's bucket (sock may be
// nil) and its address's, or from neither: a refusal costs nothing.
func (l *limits) allow(addr string, sock *limiter, act action, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entryLocked(addr, now)
	ok := true
	if r := socketRates[act]; sock != nil && r.burst > 0 {
		ok = sock.buckets[act].refill(r, now)
	}
	if r := addressRates[act]; r.burst > 0 {
		ok = e.buckets[act].refill(r, now) && ok
	}
	if !ok {
		return false
	}
	if sock != nil && socketRates[act].burst > 0 {
		sock.buckets[act].tokens--
	}
	if addressRates[act].burst > 0 {
		e.buckets[act].tokens--
	}
	return true
}

func (l *limits) entryLocked(addr string, now time.Time) *addressEntry {
	// Idle entries go first: their buckets are full, as a new one's.
	for back := l.lru.Back(); back != nil && now.Sub(back.Value.(*addressEntry).used) > addressIdle; back = l.lru.Back() {
		delete(l.byKey, back.Value.(*addressEntry).key)
		l.lru.Remove(back)
	}
	if el, ok := l.byKey[addr]; ok {
		l.lru.MoveToFront(el)
		e := el.Value.(*addressEntry)
		e.used = now
		return e
	}
	if l.lru.Len() >= l.max {
		back := l.lru.Back()
		delete(l.byKey, back.Value.(*addressEntry).key)
		l.lru.Remove(back)
	}
	e := &addressEntry{key: addr, used: now}
	l.byKey[addr] = l.lru.PushFront(e)
	return e
}

func (l *limits) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// clientAddress is the key of a client's rate limits: its IP address, or
// its /64 for IPv6 (one subscriber usually holds a whole /64).
//
// X-Forwarded-For is read only when the peer is one of trusted: anyone
// can send the header, and honouring it from anyone would let a script
// pick a new address per connection and escape every per-address limit.
// Behind trusted proxies, the client is the right-most address that is
// not one of them (the left-most entries are the client's to forge).
func clientAddress(peer string, header http.Header, trusted []netip.Prefix) string {
	addr, err := netip.ParseAddr(peer)
	if err != nil {
		// Not an IP (a Unix socket, a test transport): one key for all.
		if len(peer) > 64 {
			peer = peer[:64]
		}
		return peer
	}
	addr = addr.Unmap()
	if isTrusted(addr, trusted) {
		hops := strings.Split(strings.Join(header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // garbage: keep the last hop we could trust
			}
			addr = hop.Unmap()
			if !isTrusted(addr, trusted) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
