//go:build linux

// Command link is the lossy link of the lossy-network test (test/netem)
// on kernels without the netem qdisc (CONFIG_NET_SCH_NETEM unset, as on
// the Firecracker kernels our machines run): two TUN devices, and each IP
// packet read from one is dropped with probability -loss or written to
// the other -delay later. That is "tc qdisc add ... netem loss 5% delay
// 200ms" on both ends of a veth pair, done in user space.
//
// Both devices are created in the link's own network namespace; run.sh
// moves the server's one into the server namespace (the file descriptors
// stay attached). Setting a device down is the cable pulled: the kernel
// drops what it would send, and writes into it fail (counted as "down").
// Counters are written as JSON to -stats every 500 ms and on SIGTERM.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// From linux/if_tun.h.
const (
	tunSetIff = 0x400454ca // TUNSETIFF
	iffTun    = 0x0001
	iffNoPI   = 0x1000
)

func main() {
	cli := flag.String("cli", "", "name of the client side's TUN device")
	srv := flag.String("srv", "", "name of the server side's TUN device")
	loss := flag.Float64("loss", 0.05, "probability that a packet is dropped, each direction")
	delay := flag.Duration("delay", 200*time.Millisecond, "one-way delay, each direction")
	limit := flag.Int("limit", 10000, "packets held per direction (netem's limit); more are dropped")
	statsPath := flag.String("stats", "", "file the counters are written to")
	flag.Parse()
	if *cli == "" || *srv == "" {
		log.Fatal("-cli and -srv are required")
	}
	if err := run(*cli, *srv, *loss, *delay, *limit, *statsPath); err != nil {
		log.Fatal(err)
	}
}

func openTun(name string) (int, error) {
	if len(name) > 15 {
		return -1, fmt.Errorf("failed to create %s: name longer than 15 bytes", name)
	}
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("failed to open /dev/net/tun: %w", err)
	}
	var ifr [40]byte // struct ifreq: name[16], flags
	copy(ifr[:16], name)
	binary.NativeEndian.PutUint16(ifr[16:], iffTun|iffNoPI)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		_ = syscall.Close(fd)
		return -1, fmt.Errorf("failed to create %s: %w", name, e)
	}
	return fd, nil
}

type packet struct {
	due  time.Time
	data []byte
}

// pipe carries one direction.
type pipe struct {
	from, to int
	q        chan packet

	packets, bytes, lost, overflow, down atomic.Int64
}

type pipeStats struct {
	Packets  int64 `json:"packets"`
	Bytes    int64 `json:"bytes"`
	Lost     int64 `json:"lost"`     // dropped at random (-loss)
	Overflow int64 `json:"overflow"` // dropped as more than -limit were held
	Down     int64 `json:"down"`     // not written: the receiving device was down
}

func (p *pipe) stats() pipeStats {
	return pipeStats{p.packets.Load(), p.bytes.Load(), p.lost.Load(), p.overflow.Load(), p.down.Load()}
}

func (p *pipe) read(loss float64, delay time.Duration) {
	buf := make([]byte, 1<<16)
	for {
		n, err := syscall.Read(p.from, buf)
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
				continue
			}
			log.Printf("read: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.packets.Add(1)
		p.bytes.Add(int64(n))
		if rand.Float64() < loss {
			p.lost.Add(1)
			continue
		}
		select {
		case p.q <- packet{due: time.Now().Add(delay), data: bytes.Clone(buf[:n])}:
		default:
			p.overflow.Add(1)
		}
	}
}

// write delivers in order: with one fixed delay, the queue is in due order.
func (p *pipe) write() {
	for pkt := range p.q {
		if d := time.Until(pkt.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := syscall.Write(p.to, pkt.data); err != nil {
			p.down.Add(1) // EIO while the device is down
		}
	}
}

func run(cliName, srvName string, loss float64, delay time.Duration, limit int, statsPath string) error {
	cli, err := openTun(cliName)
	if err != nil {
		return err
	}
	srv, err := openTun(srvName)
	if err != nil {
		return err
	}
	toServer := &pipe{from: cli, to: srv, q: make(chan packet, limit)}
	toClient := &pipe{from: srv, to: cli, q: make(chan packet, limit)}
	for _, p := range []*pipe{toServer, toClient} {
		go p.read(loss, delay)
		go p.write()
	}
	save := func() {
		if statsPath == "" {
			return
		}
		b, _ := json.Marshal(map[string]pipeStats{"toServer": toServer.stats(), "toClient": toClient.stats()})
		tmp := statsPath + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err == nil {
			_ = os.Rename(tmp, statsPath)
		}
	}
	fmt.Println("READY")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			save()
		case <-sig:
			save()
			return nil
		}
	}
}
