package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// recorder collects what handlers saw, as strings, for tests to wait on.
type recorder struct{ ch chan string }

func newRecorder() *recorder { return &recorder{ch: make(chan string, 1024)} }

func (r *recorder) add(format string, args ...any) {
	select {
	case r.ch <- fmt.Sprintf(format, args...):
	default: // a test that records that much has failed already
	}
}

// next returns the next record, failing the test after d.
func (r *recorder) next(t testing.TB, d time.Duration) string {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case s := <-r.ch:
		return s
	case <-timer.C:
		t.Fatalf("no event within %v", d)
		return ""
	}
}

// expect fails unless the next records are want, in order.
func (r *recorder) expect(t testing.TB, d time.Duration, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := r.next(t, d); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
}

// waitFor skips records until one equals want (at most 100 records, d).
func (r *recorder) waitFor(t testing.TB, d time.Duration, want string) {
	t.Helper()
	deadline := time.Now().Add(d)
	var seen []string
	for range 100 {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		timer := time.NewTimer(left)
		select {
		case s := <-r.ch:
			timer.Stop()
			if s == want {
				return
			}
			seen = append(seen, s)
			continue
		case <-timer.C:
		}
		break
	}
	t.Fatalf("no %q within %v; saw %q", want, d, seen)
}

// none fails if anything is recorded within d.
func (r *recorder) none(t testing.TB, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case s := <-r.ch:
		t.Fatalf("unexpected %q", s)
	case <-timer.C:
	}
}

func timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// leakCheck records the goroutine count; the returned func, called after
// everything was closed, fails the test if more goroutines remain (after
// giving the ones ending right now up to 5s).
func leakCheck(t testing.TB) func() {
	base := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if waited := 5*time.Second - time.Until(deadline); waited > time.Second {
			t.Logf("goroutines took %v to end", waited.Round(time.Millisecond))
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			var ours []string
			for _, g := range strings.Split(string(buf), "\n\n") {
				if strings.Contains(g, "sockio/client") {
					ours = append(ours, g)
				}
			}
			t.Errorf("%d goroutines left after Close (baseline %d); client goroutines:\n%s", n, base, strings.Join(ours, "\n\n"))
		}
	}
}

// jsonEqual compares two JSON texts as values.
func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
