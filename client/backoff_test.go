package client

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := backoff{min: time.Second, max: 5 * time.Second, jitter: 0.5}
	for range 200 {
		for attempt, base := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second} {
			d := b.duration(attempt)
			lo, hi := min(base/2, b.max), min(base*3/2, b.max)
			if d < lo || d > hi {
				t.Fatalf("attempt %d: %v not in [%v, %v]", attempt, d, lo, hi)
			}
		}
	}
	if d := (backoff{min: time.Second, max: 5 * time.Second}).duration(100); d != 5*time.Second {
		t.Errorf("attempt 100 without jitter: %v", d)
	}
}

func TestConnectPayload(t *testing.T) {
	for _, tc := range []struct {
		pid, offset string
		auth        any
		want        string
	}{
		{"", "", nil, ""},
		{"", "", map[string]any{}, `{}`},
		{"", "", map[string]any{"token": "x"}, `{"token":"x"}`},
		{"p1", "", nil, `{"pid":"p1"}`},
		{"p1", "o1", map[string]any{"token": "x"}, `{"offset":"o1","pid":"p1","token":"x"}`},
		{"p1", "o1", map[string]any{"pid": "mine"}, `{"offset":"o1","pid":"mine"}`}, // auth wins
		{"", "", struct{ A int }{1}, `{"A":1}`},
	} {
		s := &Socket{pid: tc.pid, lastOffset: tc.offset}
		got, err := s.connectPayload(tc.auth)
		if err != nil || string(got) != tc.want {
			t.Errorf("connectPayload(%v) with pid %q offset %q = %s, %v; want %s", tc.auth, tc.pid, tc.offset, got, err, tc.want)
		}
	}
	for _, bad := range []any{"token", 42, []any{1}, func() {}} {
		if _, err := (&Socket{}).connectPayload(bad); err == nil {
			t.Errorf("connectPayload(%T) accepted it", bad)
		}
	}
}
