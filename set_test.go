package sockio

import (
	"fmt"
	"slices"
	"testing"
)

// TestStringSet checks the set against a map through its switch from a
// slice to a map and back down to empty.
func TestStringSet(t *testing.T) {
	var s stringSet
	want := map[string]bool{}
	check := func(step string) {
		t.Helper()
		if s.len() != len(want) {
			t.Fatalf("%s: len %d, want %d", step, s.len(), len(want))
		}
		got := slices.Sorted(s.all())
		if len(got) != len(want) {
			t.Fatalf("%s: all() gave %v", step, got)
		}
		for _, v := range got {
			if !want[v] || !s.has(v) {
				t.Fatalf("%s: %q should not be there", step, v)
			}
		}
		if s.has("absent") {
			t.Fatalf("%s: has an absent member", step)
		}
	}
	for i := 0; i < 3*smallSet; i++ {
		v := fmt.Sprint("r", i)
		s.add(v)
		s.add(v) // twice: still one member
		want[v] = true
		check("add " + v)
		if i < smallSet && s.big != nil {
			t.Fatalf("a map at %d members", i+1)
		}
	}
	if s.big == nil {
		t.Fatal("still a slice past smallSet")
	}
	for i := 0; i < 3*smallSet; i += 2 {
		v := fmt.Sprint("r", i)
		s.del(v)
		s.del(v)
		delete(want, v)
		check("del " + v)
	}
	var small stringSet
	small.add("a")
	small.add("b")
	small.del("a")
	if small.len() != 1 || !small.has("b") || small.has("a") {
		t.Fatalf("small set after a delete: %v", small.small)
	}
}
