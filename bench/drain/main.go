// Command drain measures how long a `sockio serve` node with N connected
// clients takes to drain on SIGTERM (issue #14): it starts the node,
// connects N Socket.IO clients over websocket, sends SIGTERM, and reports
// when every client saw its connection closed and when the process exited.
//
//	go build -o /tmp/sockio ./cmd/sockio
//	(cd bench && go run ./drain -sockio /tmp/sockio -n 10000 -- --adapter redis-streams --redis redis://127.0.0.1:6379)
//
// Everything runs on 127.0.0.1; the clients are bounded by -n (at most
// 15,000: one process holds at most 20,000 files here) and every wait by
// -timeout.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	bin := flag.String("sockio", "sockio", "the sockio binary")
	n := flag.Int("n", 10000, "clients (at most 15000)")
	timeout := flag.Duration("timeout", 3*time.Minute, "bound of the whole run")
	flag.Parse()
	if err := run(*bin, *n, *timeout, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "drain:", err)
		os.Exit(1)
	}
}

func run(bin string, n int, timeout time.Duration, extra []string) error {
	if n < 1 || n > 15000 {
		return errors.New("-n: 1 to 15000")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := append([]string{"serve", "--addr", addr, "--drain-delay", "0", "--shutdown-timeout", "60s"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start %s: %w", bin, err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	logs := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case logs <- sc.Text():
			default:
			}
		}
	}()
	if err := waitListening(ctx, addr); err != nil {
		return err
	}

	url := "ws://" + addr + "/socket.io/?EIO=4&transport=websocket"
	closedAt := make([]time.Time, n)
	var connected atomic.Int64
	var wg sync.WaitGroup
	dialer := &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	sem := make(chan struct{}, 64) // dials in flight
	start := time.Now()
	var dialErr atomic.Value
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, err := connect(ctx, dialer, url)
			<-sem
			if err != nil {
				dialErr.Store(err)
				return
			}
			connected.Add(1)
			defer ws.Close()
			for {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					closedAt[i] = time.Now()
					return
				}
				if string(msg) == "2" {
					_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
				}
			}
		}()
	}
	for connected.Load() < int64(n) {
		if e := dialErr.Load(); e != nil {
			return fmt.Errorf("a client failed to connect: %w", e.(error))
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%d of %d clients connected in time", connected.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("%d clients connected in %s\n", n, time.Since(start).Round(time.Millisecond))
	// Let the node settle: its connection handlers may still run (the
	// chat's name claim is one cluster-wide lookup each), and a drain
	// measured meanwhile would time them, not the hand-off.
	settled := time.Now()
	if err := waitIdle(ctx, cmd.Process.Pid); err != nil {
		return err
	}
	fmt.Printf("node idle %s after the last connect\n", time.Since(settled).Round(100*time.Millisecond))

	term := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	wg.Wait()
	allClosed := time.Since(term)
	var exited time.Duration
	select {
	case err := <-waitErr:
		exited = time.Since(term)
		if err != nil {
			return fmt.Errorf("node exited with %w", err)
		}
	case <-ctx.Done():
		return errors.New("node did not exit in time")
	}
	lat := make([]time.Duration, 0, n)
	for _, t := range closedAt {
		if !t.IsZero() {
			lat = append(lat, t.Sub(term))
		}
	}
	slices.Sort(lat)
	fmt.Printf("after SIGTERM: clients closed p50 %s p99 %s last %s; process exited after %s\n",
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond),
		allClosed.Round(time.Millisecond), exited.Round(time.Millisecond))
	for {
		select {
		case l := <-logs:
			if strings.Contains(l, "handed off") {
				fmt.Println("node:", l)
			}
		default:
			return nil
		}
	}
}

// connect opens a websocket session and connects it to "/".
func connect(ctx context.Context, d *websocket.Dialer, url string) (*websocket.Conn, error) {
	ws, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if _, open, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
		ws.Close()
		return nil, fmt.Errorf("open packet %q: %v", open, err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		ws.Close()
		return nil, err
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(string(msg), "40") {
			return ws, nil
		}
	}
}

// waitIdle waits until process pid uses less than 5% of a core over a
// second, twice in a row.
func waitIdle(ctx context.Context, pid int) error {
	quiet := 0
	last, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	for quiet < 2 {
		select {
		case <-ctx.Done():
			return errors.New("node never went idle")
		case <-time.After(time.Second):
		}
		now, err := cpuTicks(pid)
		if err != nil {
			return err
		}
		if now-last < 5 { // clock ticks of 10 ms: 5% of one second
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
	return nil
}

// cpuTicks is utime+stime of pid, from /proc/pid/stat.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var u, s int64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &s)
	return u + s, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(ctx context.Context, addr string) error {
	for ctx.Err() == nil {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("node did not listen in time")
}
