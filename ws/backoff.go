package ws

import (
	"math/rand/v2"
	"time"
)

// backoff computes reconnection waits: min doubled per failed attempt, up
// to max, spread by ± jitter (a fraction) so that clients cut off together
// do not return together.
type backoff struct {
	min, max time.Duration
	jitter   float64
}

// delay is the wait after n failed attempts in a row.
func (b backoff) delay(n int) time.Duration {
	d := float64(b.min)
	for i := 0; i < n && d < float64(b.max); i++ {
		d *= 2
	}
	d = min(d, float64(b.max))
	if b.jitter > 0 {
		d *= 1 + min(b.jitter, 1)*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}
