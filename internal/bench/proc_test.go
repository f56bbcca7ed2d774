package bench

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	line := "1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 10 0"
	got, err := parseStatCPU(line)
	if err != nil || got != 3*time.Second {
		t.Fatalf("got %v %v, want 3s (300 ticks)", got, err)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestOwnProcess(t *testing.T) {
	rss, err := procRSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("rss %d %v", rss, err)
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func TestParseIO(t *testing.T) {
	c, err := parseIO("rchar: 10\nwchar: 20\nsyscr: 3\nsyscw: 7\nread_bytes: 0\n")
	if err != nil || c.reads != 3 || c.writes != 7 {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := parseIO("rchar: 1\n"); err == nil {
		t.Fatal("missing counters accepted")
	}
	if _, err := procIO(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}
