package testkit

import (
	"testing"
	"time"

	"github.com/sockio/sockio/sockiotest"
)

// Eventually is sockiotest.WaitFor: it retries check until it passes, or
// fails the test with its last error once timeout has passed.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	sockiotest.WaitFor(t, timeout, check)
}

// CheckGoroutines is sockiotest.CheckGoroutines.
func CheckGoroutines(t *testing.T) {
	t.Helper()
	sockiotest.CheckGoroutines(t)
}
