// Command load measures `sockio echo`: echo throughput with N clients, and
// the server's resident memory per idle connection. It starts the server
// itself (so it knows its process) on a loopback port, drives it with
// minimal hand-written WebSocket clients (so the clients cost little of the
// 2 cores), and stops it. Every loop is bounded in count and time.
//
//	go build -o /tmp/sockio ./cmd/sockio
//	go run ./test/ws/load -bin /tmp/sockio -mode throughput -conns 50 -size 64 -duration 5s
//	go run ./test/ws/load -bin /tmp/sockio -mode idle -conns 2000
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	bin := flag.String("bin", "", "path of the sockio binary (required)")
	mode := flag.String("mode", "throughput", "throughput or idle")
	conns := flag.Int("conns", 50, "connections (at most 10000)")
	size := flag.Int("size", 64, "message size in bytes (throughput)")
	window := flag.Int("window", 1, "messages in flight per connection (throughput)")
	duration := flag.Duration("duration", 5*time.Second, "measuring time (throughput, at most 1m)")
	flag.Parse()
	if *bin == "" || *conns < 1 || *conns > 10000 || *duration > time.Minute || *window < 1 || *window > 1024 {
		flag.Usage()
		os.Exit(2)
	}
	srv, addr, err := startServer(*bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	defer srv.Process.Kill()
	switch *mode {
	case "throughput":
		err = throughput(addr, *conns, *size, *window, *duration)
	case "idle":
		err = idle(addr, srv.Process.Pid, *conns)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func startServer(bin string) (*exec.Cmd, string, error) {
	cmd := exec.Command(bin, "echo", "--addr", "127.0.0.1:0", "--quiet")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("failed to start %s: %w", bin, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, "", fmt.Errorf("failed to read the server's address: %w", err)
	}
	m := regexp.MustCompile(`ws://(\S+)`).FindStringSubmatch(line)
	if m == nil {
		cmd.Process.Kill()
		return nil, "", fmt.Errorf("unexpected server output %q", line)
	}
	go io.Copy(io.Discard, out)
	return cmd, m[1], nil
}

func throughput(addr string, n, size, window int, d time.Duration) error {
	clients := make([]*client, n)
	for i := range clients {
		c, err := dial(addr)
		if err != nil {
			return err
		}
		defer c.Close()
		clients[i] = c
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	frame := encode(0x81, payload)
	var msgs atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	start := time.Now()
	end := start.Add(d)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]byte, 0, len(frame)*window)
			for i := 0; i < window; i++ {
				batch = append(batch, frame...)
			}
			for time.Now().Before(end) {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(batch); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				for i := 0; i < window; i++ {
					if err := c.readEcho(size); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
				}
				msgs.Add(int64(window))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	rate := float64(msgs.Load()) / elapsed.Seconds()
	fmt.Printf("throughput: %d clients, %d B text, window %d, %v: %d echoes, %.0f msg/s, %.1f MiB/s each way\n",
		n, size, window, elapsed.Round(time.Millisecond), msgs.Load(), rate, rate*float64(size)/(1<<20))
	return nil
}

func idle(addr string, pid, n int) error {
	time.Sleep(500 * time.Millisecond)
	before, err := rss(pid)
	if err != nil {
		return err
	}
	clients := make([]*client, 0, n)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := dial(addr)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		clients = append(clients, c)
	}
	// One round trip on the last connection: the server has taken them all.
	_ = clients[n-1].SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := clients[n-1].Write(encode(0x81, []byte("hi"))); err != nil {
		return err
	}
	if err := clients[n-1].readEcho(2); err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // let the runtime settle (GC, stack shrinking)
	after, err := rss(pid)
	if err != nil {
		return err
	}
	fmt.Printf("idle: %d connections: server RSS %.1f MiB -> %.1f MiB, %.1f KiB per connection\n",
		n, float64(before)/(1<<20), float64(after)/(1<<20), float64(after-before)/float64(n)/1024)
	return nil
}

// rss reads a process's resident set size from /proc (Linux).
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("failed to read RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// client is a minimal WebSocket client: handshake, masked frames out,
// whole unfragmented echoes in (the echo fragments nothing this small).
type client struct {
	net.Conn
	br *bufio.Reader
}

func dial(addr string) (*client, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReaderSize(c, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("failed to handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	return &client{Conn: c, br: br}, nil
}

func encode(b0 byte, p []byte) []byte {
	out := []byte{b0, 0x80}
	switch n := len(p); {
	case n < 126:
		out[1] |= byte(n)
	case n < 65536:
		out[1] |= 126
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out[1] |= 127
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	key := []byte{1, 2, 3, 4}
	out = append(out, key...)
	for i, b := range p {
		out = append(out, b^key[i%4])
	}
	return out
}

// readEcho reads data frames until size payload bytes ended a message,
// skipping the server's pings.
func (c *client) readEcho(size int) error {
	got := 0
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return err
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return err
			}
			n = int64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return err
			}
			n = int64(binary.BigEndian.Uint64(b[:]))
		}
		if _, err := c.br.Discard(int(n)); err != nil {
			return err
		}
		op := h[0] & 0x0f
		if op == 0x8 {
			return errors.New("server closed the connection")
		}
		if op < 0x8 {
			got += int(n)
			if h[0]&0x80 != 0 {
				if got != size {
					return fmt.Errorf("echo of %d bytes, sent %d", got, size)
				}
				return nil
			}
		}
	}
}
