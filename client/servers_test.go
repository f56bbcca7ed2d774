package client_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The tests run every scenario against two real servers implementing
// test/interop/CONTRACT.md: sockio (the goserver command, built once in
// TestMain) and the Node.js reference (refserver.mjs on socket.io from
// npm). Both run as subprocesses so that a test can stop, pause (SIGSTOP)
// and restart them on the same port.

var (
	goServerBin string // built by TestMain
	nodeSkip    string // why the Node target is skipped, "" if it runs
	interopDir  = filepath.Join("..", "test", "interop")
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sockio-client-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	goServerBin = filepath.Join(dir, "goserver")
	build := exec.Command("go", "build", "-o", goServerBin, "./test/interop/goserver")
	build.Dir = filepath.Join("..")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "failed to build the Go contract server:", err)
		return 1
	}
	if _, err := exec.LookPath("node"); err != nil {
		nodeSkip = "node not installed"
	} else if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "socket.io")); err != nil {
		nodeSkip = "test/interop/node_modules missing: run `make deps` (cd test/interop && npm ci)"
	}
	return m.Run()
}

// target is a server implementation under test.
type target struct {
	name string
	cmd  func(port int, flags ...string) *exec.Cmd
}

var targets = []target{
	{"go", func(port int, flags ...string) *exec.Cmd {
		return exec.Command(goServerBin, append([]string{"--port", strconv.Itoa(port)}, flags...)...)
	}},
	{"node", func(port int, flags ...string) *exec.Cmd {
		return exec.Command("node", append([]string{filepath.Join(interopDir, "refserver.mjs"), "--port", strconv.Itoa(port)}, flags...)...)
	}},
}

// eachTarget runs fn as a subtest per target.
func eachTarget(t *testing.T, fn func(t *testing.T, tg target)) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			if tg.name == "node" && nodeSkip != "" {
				t.Skip(nodeSkip)
			}
			fn(t, tg)
		})
	}
}

// server is a running server subprocess.
type server struct {
	t     testing.TB
	tg    target
	flags []string
	port  int
	cmd   *exec.Cmd
}

var listenRE = regexp.MustCompile(`^listening on 127\.0\.0\.1:(\d+)$`)

// startServer starts tg with flags on any free port; it is stopped when
// the test ends.
func startServer(t testing.TB, tg target, flags ...string) *server {
	t.Helper()
	s := &server{t: t, tg: tg, flags: flags}
	if err := s.start(0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kill)
	return s
}

func (s *server) start(port int) error {
	cmd := s.tg.cmd(port, s.flags...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start %s server: %w", s.tg.name, err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timer := time.NewTimer(15 * time.Second)
	defer timer.Stop()
	select {
	case line := <-lines:
		if m := listenRE.FindStringSubmatch(line); m != nil {
			s.port, _ = strconv.Atoi(m[1])
			s.cmd = cmd
			return nil
		}
		err = fmt.Errorf("%s server said %q", s.tg.name, line)
	case <-timer.C:
		err = fmt.Errorf("%s server did not start within 15s", s.tg.name)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return err
}

// URL is the server's base URL plus path (a namespace).
func (s *server) URL(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path) }

// stop ends the server with SIGTERM (a clean shutdown), killing it if it
// lingers.
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case it is paused
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// kill ends the server at once (a crash).
func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// startAgain starts a stopped server on its port.
func (s *server) startAgain() {
	s.t.Helper()
	var err error
	for range 50 {
		if err = s.start(s.port); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("failed to start %s server on port %d: %v", s.tg.name, s.port, err)
}

// pause stops the process (SIGSTOP): it goes silent, pings included, while
// its sockets stay open.
func (s *server) pause() { _ = s.cmd.Process.Signal(syscall.SIGSTOP) }

// resume continues a paused server.
func (s *server) resume() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }
