package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockio/sockio/client"
)

// childArgs, when set, makes the test binary run `sockio` with these
// arguments (JSON) instead of the tests: TestServeOperable starts the
// real command in a process of its own, with its environment.
const childArgs = "SERVE_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			panic(err)
		}
		os.Args = append([]string{"sockio"}, args...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// `sockio serve` configured by its environment as in a container: TLS, a
// path of its own, JSON logs, metrics on their own listener. A client
// connects over WSS at that path, its event shows in the metrics, and
// SIGTERM ends the process cleanly.
func TestServeOperable(t *testing.T) {
	cert, key := writeCert(t)
	args, _ := json.Marshal([]string{"serve", "--transports", "websocket"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childArgs+"="+string(args),
		"SOCKIO_ADDR=127.0.0.1:0",
		"SOCKIO_METRICS=127.0.0.1:0",
		"SOCKIO_TLS_CERT="+cert,
		"SOCKIO_TLS_KEY="+key,
		"SOCKIO_PATH=/rt",
		"SOCKIO_LOG_JSON=true",
		"SOCKIO_TRANSPORTS=polling", // the flag wins
		"SOCKIO_SHUTDOWN_TIMEOUT=5s",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// The logs are JSON lines; the listeners' addresses are in them.
	type line struct {
		Msg        string
		Addr       string
		Transports string
		Path       string
	}
	lines := make(chan line, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("a log line that is not JSON: %q", sc.Text())
				continue
			}
			lines <- l
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	var addr, metricsAddr string
	deadline := time.After(30 * time.Second)
	for addr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("sockio serve ended before serving")
			}
			switch l.Msg {
			case "metrics":
				metricsAddr = l.Addr
			case "sockio chat serving":
				addr = l.Addr
				if l.Transports != "websocket" || l.Path != "/rt/" {
					t.Errorf("serving transports %q path %q", l.Transports, l.Path)
				}
			}
		case <-deadline:
			t.Fatal("sockio serve did not start")
		}
	}
	if metricsAddr == "" {
		t.Fatal("no metrics listener logged")
	}
	go func() {
		for range lines { // keep reading: a full pipe would block the server
		}
	}()

	certPEM, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()

	res, err := hc.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/healthz over TLS: %d", res.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, "https://"+addr+"/", client.Options{
		Path: "/rt/", Transports: []string{client.WebSocket}, HTTPClient: hc,
		Auth: map[string]any{"name": "probe"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EmitWithAck(ctx, "echo", "hi"); err != nil {
		t.Fatal(err)
	}

	// The handler's time is recorded once it returned, which may be
	// after its ack reached us: scrape until everything is there.
	wants := []string{
		`sockio_events_received_total{event="echo",namespace="/"} 1`,
		`sockio_engine_clients{transport="websocket"} 1`,
		`sockio_sockets{namespace="/",transport="websocket"} 1`,
		`sockio_event_handler_duration_seconds_count{event="echo",namespace="/"} 1`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err = http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var missing []string
		for _, want := range wants {
			if !strings.Contains(string(body), want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no %q:\n%s", missing, body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("sockio serve did not end after SIGTERM")
	}
}
