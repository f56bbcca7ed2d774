// Command load is the load generator for the WebSocket library comparison.
// It speaks a minimal RFC 6455 client itself (handshake with
// Sec-WebSocket-Accept check, masked client frames, unmasked server frames)
// so that the client side costs the same, and as little as possible, for
// every server library. It only ever connects to loopback addresses.
//
//	-mode echo   N closed-loop clients send a text message, wait for the echo,
//	             repeat; reports msgs/s and latency percentiles
//	-mode idle   open N idle connections, report the server's RSS and Go
//	             stats before/after (needs -pid)
//	-mode bcast  open N /sink connections, trigger K broadcasts, report the
//	             server-side write time and the client-observed time until
//	             every connection has the message
//
// Output: one JSON object on stdout.
package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	addr    = flag.String("addr", "127.0.0.1:9000", "server address (loopback only)")
	mode    = flag.String("mode", "echo", "echo | idle | bcast | wait")
	n       = flag.Int("n", 100, "connections")
	size    = flag.Int("size", 64, "message size in bytes (echo, bcast)")
	dur     = flag.Duration("dur", 5*time.Second, "measured duration (echo)")
	warm    = flag.Duration("warmup", 500*time.Millisecond, "unmeasured warm-up (echo)")
	srcs    = flag.Int("srcs", 8, "spread client source IPs over 127.0.0.2..127.0.0.(1+srcs); 0 = kernel default")
	pid     = flag.Int("pid", 0, "server pid (idle: VmRSS from /proc/<pid>/status)")
	rounds  = flag.Int("k", 20, "broadcasts to send (bcast)")
	hold    = flag.Duration("settle", 500*time.Millisecond, "idle: wait after connecting before measuring")
	label   = flag.String("label", "", "free-form label copied into the output")
	dialPar = flag.Int("dialpar", 64, "concurrent dials")
)

func main() {
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("refusing non-loopback address %q", *addr)
	}
	out := map[string]any{"mode": *mode, "n": *n, "label": *label}
	switch *mode {
	case "echo":
		runEcho(out)
	case "idle":
		runIdle(out)
	case "bcast":
		runBcast(out)
	case "wait": // wait for the server to answer /stats, no output on success
		for t0 := time.Now(); ; time.Sleep(20 * time.Millisecond) {
			var st stats
			if getJSON("/stats", &st) == nil {
				return
			}
			if time.Since(t0) > 5*time.Second {
				log.Fatal("server not up")
			}
		}
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// ------------------------------------------------------------------ client

type wsConn struct {
	nc net.Conn
	br *bufio.Reader
}

func dial(i int, path string) (*wsConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if *srcs > 0 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%*srcs))}
	}
	nc, err := d.Dial("tcp", *addr)
	if err != nil {
		return nil, err
	}
	var kb [16]byte
	rand.Read(kb[:])
	key := base64.StdEncoding.EncodeToString(kb[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + *addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(h[:]) {
		nc.Close()
		return nil, fmt.Errorf("bad handshake: %s", resp.Status)
	}
	nc.SetDeadline(time.Time{})
	return &wsConn{nc: nc, br: br}, nil
}

func dialAll(count int, path string) ([]*wsConn, time.Duration) {
	cs := make([]*wsConn, count)
	sem := make(chan struct{}, *dialPar)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	t0 := time.Now()
	for i := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(i, path)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			cs[i] = c
		}(i)
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		log.Fatalf("dial: %v", e)
	}
	return cs, time.Since(t0)
}

// textFrame builds one masked client text frame.
func textFrame(payload []byte) []byte {
	var hdr []byte
	switch l := len(payload); {
	case l < 126:
		hdr = []byte{0x81, 0x80 | byte(l)}
	case l <= 0xffff:
		hdr = []byte{0x81, 0x80 | 126, byte(l >> 8), byte(l)}
	default:
		hdr = []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(hdr[2:], uint64(l))
	}
	var mk [4]byte
	rand.Read(mk[:])
	f := append(hdr, mk[:]...)
	for i, b := range payload {
		f = append(f, b^mk[i&3])
	}
	return f
}

// readFrame reads one unmasked server frame into buf (grown as needed) and
// returns opcode and payload.
func (c *wsConn) readFrame(buf []byte) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		return 0, nil, errors.New("masked server frame")
	}
	l := uint64(h[1] & 0x7f)
	switch l {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(c.br, e[:]); err != nil {
			return 0, nil, err
		}
		l = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(c.br, e[:]); err != nil {
			return 0, nil, err
		}
		l = binary.BigEndian.Uint64(e[:])
	}
	if uint64(cap(buf)) < l {
		buf = make([]byte, l)
	}
	buf = buf[:l]
	if _, err := io.ReadFull(c.br, buf); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 {
		return 0, nil, errors.New("unexpected fragmented server frame")
	}
	return h[0] & 0x0f, buf, nil
}

func payloadOf(sz int) []byte {
	p := make([]byte, sz)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return p
}

func pct(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i]) / 1e3 // ns -> µs
}

func getJSON(path string, v any) error {
	resp, err := http.Get("http://" + *addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// -------------------------------------------------------------------- echo

func runEcho(out map[string]any) {
	cs, dt := dialAll(*n, "/echo")
	out["size"] = *size
	out["dial_ms"] = dt.Milliseconds()
	payload := payloadOf(*size)
	var measuring atomic.Bool
	var stop atomic.Bool
	lats := make([][]int64, len(cs))
	var errs atomic.Int64
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func(i int, c *wsConn) {
			defer wg.Done()
			frame := textFrame(payload)
			buf := make([]byte, *size)
			l := make([]int64, 0, 1<<14)
			for !stop.Load() {
				t0 := time.Now()
				if _, err := c.nc.Write(frame); err != nil {
					errs.Add(1)
					return
				}
				op, p, err := c.readFrame(buf)
				if err != nil || op != 1 || len(p) != *size || p[0] != 'a' {
					errs.Add(1)
					return
				}
				if measuring.Load() {
					l = append(l, time.Since(t0).Nanoseconds())
				}
			}
			lats[i] = l
		}(i, c)
	}
	time.Sleep(*warm)
	measuring.Store(true)
	t0 := time.Now()
	sc0, cc0 := cpuTicks(*pid), cpuTicks(os.Getpid())
	time.Sleep(*dur)
	measuring.Store(false)
	elapsed := time.Since(t0)
	sc1, cc1 := cpuTicks(*pid), cpuTicks(os.Getpid())
	// CPU use of each side over the measured window, % of one core
	if *pid != 0 {
		out["server_cpu_pct"] = float64(sc1-sc0) / clkTck / elapsed.Seconds() * 100
	}
	out["client_cpu_pct"] = float64(cc1-cc0) / clkTck / elapsed.Seconds() * 100
	stop.Store(true)
	for _, c := range cs {
		c.nc.SetDeadline(time.Now().Add(2 * time.Second))
	}
	wg.Wait()
	var all []int64
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	out["msgs"] = len(all)
	out["msgs_per_s"] = float64(len(all)) / elapsed.Seconds()
	out["p50_us"] = pct(all, 0.50)
	out["p99_us"] = pct(all, 0.99)
	out["p999_us"] = pct(all, 0.999)
	out["errors"] = errs.Load()
	if *pid != 0 && len(all) > 0 {
		// server CPU time per echoed message: robust to CPU stolen by
		// other work on a noisy machine
		cpuS := float64(sc1-sc0) / clkTck
		out["server_cpu_us_per_msg"] = cpuS * 1e6 / float64(len(all))
		if cpuS > 0 {
			// echoes per second of server CPU: the rate one dedicated core
			// would sustain if the server were the bottleneck
			out["msgs_per_server_cpu_s"] = float64(len(all)) / cpuS
		}
	}
	for _, c := range cs {
		c.nc.Close()
	}
}

// -------------------------------------------------------------------- idle

const clkTck = 100 // USER_HZ on Linux

// cpuTicks returns utime+stime of process p in clock ticks (0 if unknown).
func cpuTicks(p int) int64 {
	if p == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	fs := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(fs[11], 10, 64) // field 14 utime
	k, _ := strconv.ParseInt(fs[12], 10, 64) // field 15 stime
	return u + k
}

func rssOf(p int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb * 1024
		}
	}
	return -1
}

type stats struct {
	Conns      int64 `json:"conns"`
	Goroutines int64 `json:"goroutines"`
	RSS        int64 `json:"rss"`
	HeapInuse  int64 `json:"heap_inuse"`
	StackInuse int64 `json:"stack_inuse"`
	Sys        int64 `json:"sys"`
	GOMAXPROCS int   `json:"gomaxprocs"`
}

func runIdle(out map[string]any) {
	if *pid == 0 {
		log.Fatal("-pid required for -mode idle")
	}
	var before, after stats
	if err := getJSON("/stats?gc=1", &before); err != nil {
		log.Fatal(err)
	}
	rawBefore := rssOf(*pid)
	cs, dt := dialAll(*n, "/echo")
	out["dial_ms"] = dt.Milliseconds()
	// wait until the server counts every connection, then let it settle
	deadline := time.Now().Add(5 * time.Second)
	for {
		var s stats
		if err := getJSON("/stats", &s); err == nil && s.Conns >= int64(*n) {
			break
		}
		if time.Now().After(deadline) {
			log.Fatal("server did not register all connections")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(*hold)
	rawAfter := rssOf(*pid) // RSS as it stands, before any forced GC
	if err := getJSON("/stats?gc=1", &after); err != nil {
		log.Fatal(err)
	}
	N := float64(*n)
	out["gomaxprocs"] = after.GOMAXPROCS
	out["rss_before"] = before.RSS
	out["rss_after"] = after.RSS
	out["bytes_per_conn_rss"] = float64(after.RSS-before.RSS) / N   // after GC+FreeOSMemory
	out["bytes_per_conn_rss_raw"] = float64(rawAfter-rawBefore) / N // no forced GC after connecting
	out["bytes_per_conn_heap"] = float64(after.HeapInuse-before.HeapInuse) / N
	out["bytes_per_conn_stack"] = float64(after.StackInuse-before.StackInuse) / N
	out["goroutines_per_conn"] = float64(after.Goroutines-before.Goroutines) / N
	out["server_conns"] = after.Conns
	for _, c := range cs {
		c.nc.Close()
	}
}

// ------------------------------------------------------------------- bcast

func runBcast(out map[string]any) {
	cs, dt := dialAll(*n, "/sink")
	out["dial_ms"] = dt.Milliseconds()
	out["size"] = *size
	deadline := time.Now().Add(5 * time.Second)
	for {
		var s stats
		if err := getJSON("/stats", &s); err == nil && s.Conns >= int64(*n) {
			break
		}
		if time.Now().After(deadline) {
			log.Fatal("server did not register all connections")
		}
		time.Sleep(20 * time.Millisecond)
	}
	K := *rounds
	count := make([]atomic.Int64, K)
	last := make([]atomic.Int64, K)
	done := make([]chan struct{}, K)
	for i := range done {
		done[i] = make(chan struct{})
	}
	var bad atomic.Int64
	for _, c := range cs {
		go func(c *wsConn) {
			buf := make([]byte, *size)
			for {
				op, p, err := c.readFrame(buf)
				now := time.Now().UnixNano()
				if err != nil {
					return
				}
				if op != 1 || len(p) != *size {
					bad.Add(1)
					continue
				}
				seq, err := strconv.Atoi(string(p[:8]))
				if err != nil || seq < 0 || seq >= K {
					bad.Add(1)
					continue
				}
				for {
					old := last[seq].Load()
					if now <= old || last[seq].CompareAndSwap(old, now) {
						break
					}
				}
				if count[seq].Add(1) == int64(len(cs)) {
					close(done[seq])
				}
			}
		}(c)
	}
	var server, e2e []int64
	timeouts := 0
	for k := 0; k < K; k++ {
		t0 := time.Now().UnixNano()
		var r struct{ N, Ns int64 }
		if err := getJSON(fmt.Sprintf("/broadcast?seq=%d&size=%d", k, *size), &r); err != nil {
			log.Fatal(err)
		}
		if r.N != int64(len(cs)) {
			log.Fatalf("server broadcast to %d conns, want %d", r.N, len(cs))
		}
		select {
		case <-done[k]:
			server = append(server, r.Ns)
			e2e = append(e2e, last[k].Load()-t0)
		case <-time.After(3 * time.Second):
			timeouts++
		}
		time.Sleep(20 * time.Millisecond)
	}
	sort.Slice(server, func(a, b int) bool { return server[a] < server[b] })
	sort.Slice(e2e, func(a, b int) bool { return e2e[a] < e2e[b] })
	out["server_write_all_us_p50"] = pct(server, 0.5)
	out["server_write_all_us_min"] = pct(server, 0)
	out["e2e_last_recv_us_p50"] = pct(e2e, 0.5)
	out["timeouts"] = timeouts
	out["bad_frames"] = bad.Load()
	for _, c := range cs {
		c.nc.Close()
	}
}
