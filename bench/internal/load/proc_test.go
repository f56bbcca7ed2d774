package load

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

func TestParseCoreTimes(t *testing.T) {
	stat := "cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 5 0 5 40 0 0 0 0 0 0\ncpu1 1 2 3 4 5 6 7 8 0 0\nintr 1\n"
	ct := parseCoreTimes(stat)
	if len(ct) != 2 {
		t.Fatalf("got %d cores, want 2", len(ct))
	}
	if ct[0].busy != 10 || ct[0].total != 50 {
		t.Errorf("cpu0 = %+v, want busy 10 of 50", ct[0])
	}
	// busy: user, nice, system, irq, softirq, steal; not idle nor iowait.
	if ct[1].busy != 1+2+3+6+7+8 || ct[1].total != 36 {
		t.Errorf("cpu1 = %+v, want busy 27 of 36", ct[1])
	}
	if ct[1].softirq != 7 {
		t.Errorf("cpu1 softirq = %d, want 7", ct[1].softirq)
	}
	later := parseCoreTimes("cpu0 15 0 5 70 0 0 10 0 0 0\ncpu1 1 2 3 4 5 6 7 8 0 0\n")
	busy, soft := later.since(ct)
	if busy[0] != 40 || busy[1] != 0 || soft[0] != 20 {
		t.Errorf("since = %v %v, want [40 0] [20 0]", busy, soft)
	}
}
