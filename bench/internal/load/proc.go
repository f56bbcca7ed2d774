package load

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var noDeadline time.Time

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// it is 100 on every Linux the project runs on.
const clockTicks = 100

// procRSS returns the resident set size of pid in bytes (VmRSS).
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("failed to read the server's RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("failed to parse VmRSS %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// procCPU returns the CPU time (user + system) pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("failed to read the CPU time of %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line; the command name in parentheses may hold spaces.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 || i+2 > len(stat) {
		return 0, fmt.Errorf("bad stat line")
	}
	f := strings.Fields(stat[i+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime in stat line")
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// loadAvg returns the 1-minute load average, or -1.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// RaiseFileLimit lifts the soft open-file limit to the hard one (on our
// machines 20,000) and returns it.
func RaiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("failed to read the open-file limit: %w", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, fmt.Errorf("failed to raise the open-file limit: %w", err)
		}
	}
	return rl.Cur, nil
}

// cpuMeter measures a process's CPU use over an interval.
type cpuMeter struct {
	pid   int
	start time.Duration
	wall  time.Time
}

func startCPU(pid int) *cpuMeter {
	if pid <= 0 {
		return nil
	}
	c, err := procCPU(pid)
	if err != nil {
		return nil
	}
	return &cpuMeter{pid: pid, start: c, wall: time.Now()}
}

// stop returns the CPU time used since start and the share of one core.
func (m *cpuMeter) stop() (used time.Duration, share float64) {
	if m == nil {
		return 0, 0
	}
	c, err := procCPU(m.pid)
	if err != nil {
		return 0, 0
	}
	used = c - m.start
	return used, used.Seconds() / time.Since(m.wall).Seconds()
}

func pidSelf() int { return os.Getpid() }

// ioCounts are a process's read and write system calls so far
// (/proc/<pid>/io syscr and syscw; writev counts as one write).
type ioCounts struct{ reads, writes int64 }

func procIO(pid int) (ioCounts, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return ioCounts{}, fmt.Errorf("failed to read the I/O counters of %d: %w", pid, err)
	}
	return parseIO(string(b))
}

func parseIO(s string) (ioCounts, error) {
	var c ioCounts
	found := 0
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "syscr":
			c.reads, found = n, found+1
		case "syscw":
			c.writes, found = n, found+1
		}
	}
	if found != 2 {
		return c, fmt.Errorf("no syscr/syscw in /proc/<pid>/io")
	}
	return c, nil
}

// ioMeter counts a process's system calls over an interval.
type ioMeter struct {
	pid   int
	start ioCounts
}

func startIO(pid int) *ioMeter {
	if pid <= 0 {
		return nil
	}
	c, err := procIO(pid)
	if err != nil {
		return nil
	}
	return &ioMeter{pid: pid, start: c}
}

// stop returns the calls made since start; ok is false when unknown.
func (m *ioMeter) stop() (ioCounts, bool) {
	if m == nil {
		return ioCounts{}, false
	}
	c, err := procIO(m.pid)
	if err != nil {
		return ioCounts{}, false
	}
	return ioCounts{c.reads - m.start.reads, c.writes - m.start.writes}, true
}

// coreTimes are each CPU's busy, softirq and total jiffies so far
// (/proc/stat).
type coreTimes []coreTime

type coreTime struct{ busy, softirq, total uint64 }

func readCoreTimes() coreTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	return parseCoreTimes(string(b))
}

// parseCoreTimes reads the "cpuN user nice system idle iowait irq softirq
// steal ..." lines; idle and iowait are not busy.
func parseCoreTimes(s string) coreTimes {
	var out coreTimes
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil || n != len(out) {
			continue
		}
		var c coreTime
		for i := 1; i <= 8; i++ {
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil
			}
			c.total += v
			if i != 4 && i != 5 {
				c.busy += v
			}
			if i == 7 {
				c.softirq = v
			}
		}
		out = append(out, c)
	}
	return out
}

// since returns each core's busy and softirq shares since t0, in percent.
// With the processes' own CPU time they show what else ran on a core: the
// kernel's network work that no process is charged for (softirq: on
// loopback, delivering what a process on that core wrote), and a shared
// machine's other users.
func (t coreTimes) since(t0 coreTimes) (busy, softirq []float64) {
	if len(t) != len(t0) {
		return nil, nil
	}
	busy, softirq = make([]float64, len(t)), make([]float64, len(t))
	for i := range t {
		if d := t[i].total - t0[i].total; d > 0 {
			busy[i] = 100 * float64(t[i].busy-t0[i].busy) / float64(d)
			softirq[i] = 100 * float64(t[i].softirq-t0[i].softirq) / float64(d)
		}
	}
	return busy, softirq
}
