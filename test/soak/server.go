package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// server is `sockio serve` running as a child process.
type server struct {
	cmd     *exec.Cmd
	addr    string // 127.0.0.1:port of the chat
	debug   string // 127.0.0.1:port of --debug-addr
	logPath string
	exited  chan struct{}
	waitErr error
	dbg     *http.Client
}

// buildServer compiles cmd/sockio into dir. The package path (not ./...)
// works from any directory of the module.
func buildServer(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sockio")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sockio/sockio/cmd/sockio")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build cmd/sockio: %w", err)
	}
	return bin, nil
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before the server binds it; startServer then fails clearly.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer runs bin serve with its file limit lowered to nofile, and
// waits until both its listeners answer.
func startServer(ctx context.Context, bin, dir string, nofile int, recovery time.Duration) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	daddr, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--debug-addr", daddr, "--recovery", recovery.String())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start sockio serve: %w", err)
	}
	s := &server{cmd: cmd, addr: addr, debug: daddr, logPath: logPath, exited: make(chan struct{}),
		dbg: &http.Client{Timeout: 5 * time.Second}}
	go func() {
		s.waitErr = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	if nofile > 0 {
		if err := limitFiles(cmd.Process.Pid, nofile); err != nil {
			s.stop()
			return nil, err
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err1 := s.vars(ctx)
		c, err2 := net.DialTimeout("tcp", addr, time.Second)
		if err2 == nil {
			c.Close()
		}
		if err1 == nil && err2 == nil {
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("sockio serve exited at start (%v); log:\n%s", s.waitErr, s.logTail(2000))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("sockio serve not answering after 15 s: %v / %v", err1, err2)
		}
	}
}

// stop ends the server with SIGTERM (its graceful shutdown), then SIGKILL
// if it takes longer than its 10 s grace plus a margin.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// logTail is the end of the server's log, for failure reports.
func (s *server) logTail(n int64) string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	if st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// debugVars is the part of the server's expvar page the soak reads.
type debugVars struct {
	Goroutines int `json:"goroutines"`
	MemStats   struct {
		HeapInuse uint64 `json:"HeapInuse"`
		HeapSys   uint64 `json:"HeapSys"`
		NumGC     uint32 `json:"NumGC"`
	} `json:"memstats"`
}

func (s *server) vars(ctx context.Context) (debugVars, error) {
	var v debugVars
	err := s.debugGet(ctx, "/debug/vars", func(r io.Reader) error { return json.NewDecoder(r).Decode(&v) })
	return v, err
}

// forceGC runs a garbage collection in the server: the heap profile
// endpoint does one before it writes the profile when asked with gc=1.
func (s *server) forceGC(ctx context.Context) error {
	return s.debugGet(ctx, "/debug/pprof/heap?gc=1", func(r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
}

func (s *server) debugGet(ctx context.Context, path string, read func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.debug+path, nil)
	if err != nil {
		return fmt.Errorf("debug request: %w", err)
	}
	resp, err := s.dbg.Do(req)
	if err != nil {
		return fmt.Errorf("debug %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("debug %s: %s", path, resp.Status)
	}
	if err := read(resp.Body); err != nil {
		return fmt.Errorf("debug %s: %w", path, err)
	}
	return nil
}

// sample is one measure of the server process.
type sample struct {
	at         time.Duration // since the start of the run
	phase      string
	fds        int
	goroutines int
	rss        int64
	heap       uint64 // HeapInuse
	attackers  int64  // attacker connections open on our side
}

func (s *server) sample(ctx context.Context) (sample, error) {
	var sm sample
	var errs []error
	pid := s.cmd.Process.Pid
	var err error
	if sm.fds, err = fdCount(pid); err != nil {
		errs = append(errs, err)
	}
	if sm.rss, err = rssBytes(pid); err != nil {
		errs = append(errs, err)
	}
	if v, err := s.vars(ctx); err != nil {
		errs = append(errs, err)
		sm.goroutines = -1
	} else {
		sm.goroutines, sm.heap = v.Goroutines, v.MemStats.HeapInuse
	}
	return sm, errors.Join(errs...)
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
