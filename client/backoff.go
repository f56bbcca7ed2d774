package client

import (
	"math"
	"math/rand/v2"
	"time"
)

// backoff computes reconnection delays as the reference's backo2 does:
// min·2^attempt, moved up or down by a random part of up to jitter, capped
// at max.
type backoff struct {
	min, max time.Duration
	jitter   float64
}

// duration returns the delay before attempt (0-based).
func (b backoff) duration(attempt int) time.Duration {
	ms := float64(b.min.Milliseconds()) * math.Pow(2, float64(attempt))
	if b.jitter > 0 {
		r := rand.Float64()
		dev := math.Floor(r * b.jitter * ms)
		if int(math.Floor(r*10))&1 == 0 {
			ms -= dev
		} else {
			ms += dev
		}
	}
	ms = math.Min(ms, float64(b.max.Milliseconds()))
	return time.Duration(ms) * time.Millisecond
}
