package chat

import "time"

// limiter is a token bucket: burst messages at once, then one per every.
// It belongs to one socket, whose handlers run one at a time, so it needs
// no lock.
type limiter struct {
	burst  float64
	every  time.Duration
	tokens float64
	last   time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: float64(burst), every: every, tokens: float64(burst)}
}

func (l *limiter) allow(now time.Time) bool {
	if !l.last.IsZero() {
		l.tokens += float64(now.Sub(l.last)) / float64(l.every)
		if l.tokens > l.burst {
			l.tokens = l.burst
		}
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
