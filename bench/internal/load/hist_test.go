package load

import (
	"testing"
	"time"
)

func TestBucketsAreContiguous(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345, 1<<63 - 1} {
		i := bucketOf(v)
		if i < prev {
			t.Fatalf("bucketOf(%d) = %d, below the previous %d", v, i, prev)
		}
		lo, w := bucketRange(i)
		if v < lo || v >= lo+w {
			t.Fatalf("value %d not in its bucket %d [%d, %d)", v, i, lo, lo+w)
		}
		if w > 1 && float64(w)/float64(lo) > 1.0/64+1e-9 {
			t.Fatalf("bucket %d too wide: %d at %d", i, w, lo)
		}
		prev = i
	}
	if bucketOf(1<<63-1) >= histBuckets {
		t.Fatalf("largest value outside the array")
	}
}

func TestQuantileUniform(t *testing.T) {
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.9, 9000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d > 0.016 || d < -0.016 {
			t.Errorf("p%v = %v, want %v ±1.6%%", c.q*100, got, c.want)
		}
	}
	if h.Max() != 10*time.Millisecond || h.Count() != 10000 {
		t.Fatalf("max %v count %d", h.Max(), h.Count())
	}
	if m := h.Mean(); m < 5000*time.Microsecond || m > 5001*time.Microsecond {
		t.Fatalf("mean %v", m)
	}
}

func TestQuantileSmallAndSkewed(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 {
		t.Fatal("empty histogram must report 0")
	}
	// 99 fast samples and one slow: p99 is fast, the max is the slow one.
	for i := 0; i < 99; i++ {
		h.Record(100 * time.Nanosecond)
	}
	h.Record(time.Second)
	if got := h.Quantile(0.99); got != 100*time.Nanosecond {
		t.Fatalf("p99 = %v, want 100ns", got)
	}
	if got := h.Quantile(0.999); got < 984*time.Millisecond || got > time.Second {
		t.Fatalf("p99.9 = %v, want ≈1s", got)
	}
	h.Record(-time.Second) // clamps to zero
	if h.Quantile(0) != 0 {
		t.Fatalf("p0 = %v", h.Quantile(0))
	}
}

func TestMerge(t *testing.T) {
	var a, b Histogram
	a.Record(time.Millisecond)
	b.Record(3 * time.Millisecond)
	a.Merge(&b)
	if a.Count() != 2 || a.Max() != 3*time.Millisecond || a.Mean() != 2*time.Millisecond {
		t.Fatalf("merged: n=%d max=%v mean=%v", a.Count(), a.Max(), a.Mean())
	}
}
