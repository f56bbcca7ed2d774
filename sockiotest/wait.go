package sockiotest

import (
	"runtime"
	"time"
)

// WaitFor retries cond every 20ms until it returns nil, or fails the test
// with cond's last error once timeout has passed. cond runs at least once,
// and once more after the deadline, so a slow machine that lets the
// deadline pass during a sleep still gets its last look.
func WaitFor(t TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not so after %v: %v", timeout, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CheckGoroutines fails the test if, once everything registered before it
// is cleaned up, more goroutines run than before the test (waiting up to
// 5s for them to end). Call it first in a test that must not leak, before
// the servers and clients whose cleanups must run first.
func CheckGoroutines(t TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			now := runtime.NumGoroutine()
			if now <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after cleanup\n%s", before, now, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
