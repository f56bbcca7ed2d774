package adaptertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// A node in a child process is the test binary run again on the same
// top-level test with childEnv set: Run then starts one node instead of
// the scenarios, prints its URL and the server-side events it receives on
// stdout, and lives until its stdin closes (the parent ended) or a signal
// ends it. That is how a scenario kills (SIGKILL) or freezes (SIGSTOP) a
// node without touching the test process, as os/exec's tests re-run
// their binary.
const childEnv = "SOCKIO_ADAPTERTEST_CHILD"

const (
	childURL   = "adaptertest-child url "
	childEvent = "adaptertest-child event "
)

type childSpec struct {
	Test     string // the top-level test that runs the suite
	Cluster  string
	Name     string
	Recovery bool
}

// runChild is Run in a child process: one node until stdin closes.
func runChild(t *testing.T, cfg Config, spec childSpec) {
	n := startLocal(spec.Name, cfg.NewNode(t, spec.Cluster), spec.Recovery, true)
	defer n.close()
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(os.Stdout, s)
	}
	n.rec.onEvent = func(ev string) { say(childEvent + ev) }
	say(childURL + n.url)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// child is the parent's handle on a child process node.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	done   chan struct{} // closed when the process has exited
	stderr lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep the start, where the cause is
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startChild starts a node of h's cluster in a child process.
func (h *harness) startChild(name string) *node {
	h.t.Helper()
	top, _, _ := strings.Cut(h.t.Name(), "/")
	spec, _ := json.Marshal(childSpec{Test: top, Cluster: h.cluster, Name: name, Recovery: h.recovery})
	exe, err := os.Executable()
	if err != nil {
		h.t.Fatalf("child node: %v", err)
	}
	c := &child{done: make(chan struct{})}
	c.cmd = exec.Command(exe, "-test.run=^"+top+"$", "-test.count=1", "-test.timeout=10m")
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	c.cmd.Stderr = &c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		h.t.Fatalf("child node: %v", err)
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		h.t.Fatalf("child node: %v", err)
	}
	if err := c.cmd.Start(); err != nil {
		h.t.Fatalf("child node: %v", err)
	}
	n := &node{name: name, child: c, rec: newRecorder()}
	urlc := make(chan string, 1)
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, childURL); ok {
				urlc <- u
			} else if ev, ok := strings.CutPrefix(line, childEvent); ok {
				n.rec.add(ev)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = c.cmd.Wait()
	}()
	h.t.Cleanup(n.close)
	select {
	case n.url = <-urlc:
	case <-c.done:
		h.t.Fatalf("child node %s exited before serving:\n%s", name, c.stderr.String())
	case <-time.After(60 * time.Second):
		h.t.Fatalf("child node %s did not start:\n%s", name, c.stderr.String())
	}
	return n
}

// stop ends the child (it is killed if closing its stdin does not end
// it, which a frozen one cannot) and waits for it.
func (c *child) stop() {
	_ = c.stdin.Close()
	select {
	case <-c.done:
		return
	case <-time.After(5 * time.Second):
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// kill ends the child at once, as a crash would.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}
