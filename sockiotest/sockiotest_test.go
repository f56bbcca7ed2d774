package sockiotest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/sockiotest"
)

// echoServer answers "echo" with its arguments, greets every socket, and
// reports each disconnect reason.
func echoServer(t *testing.T) (*sockio.Server, string, <-chan string) {
	io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{}))
	reasons := make(chan string, 16)
	io.OnConnection(func(s *sockio.Socket) {
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
		s.On("ask", func(q string) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				res, err := s.EmitWithAck(ctx, "question", q)
				if err != nil {
					_ = s.Emit("answer", "error: "+err.Error())
					return
				}
				_ = s.Emit("answer", string(res.Raw(0)))
			}()
		})
		s.On("disconnect", func(reason string) { reasons <- reason })
		_ = s.Emit("welcome", s.Handshake().Auth["name"])
	})
	return io, hs.URL, reasons
}

func TestClient(t *testing.T) {
	_, url, reasons := echoServer(t)
	c := sockiotest.ConnectWith(t, url, sockiotest.ClientOptions{Name: "ann", Auth: map[string]any{"name": "ann"},
		AckWith: func(e sockiotest.Event) []any { return []any{"yes to " + e.Name} }})
	if len(c.ID()) == 0 {
		t.Fatal("no socket id")
	}
	var name string
	c.Expect("welcome").Arg(t, 0, &name)
	if name != "ann" {
		t.Errorf("welcome %q, want the auth's name", name)
	}

	res, err := c.EmitWithAck(context.Background(), "echo", "x", 1.5, []byte{7, 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Args) != 3 || string(res.Args[0]) != `"x"` || string(res.Args[1]) != "1.5" ||
		len(res.Attachments) != 1 || string(res.Attachments[0]) != "\x07\x08" {
		t.Errorf("echo answer %s %q", res, res.Attachments)
	}

	// The server asks; AckWith answers.
	c.Emit("ask", "tea?")
	var answer string
	c.Await("answer").Arg(t, 0, &answer)
	if answer != `"yes to question"` {
		t.Errorf("answer %s", answer)
	}
	if c.Pending("question") != 1 {
		t.Errorf("the question is not kept: %d", c.Pending("question"))
	}
	c.Expect("question")
	c.ExpectNone(50 * time.Millisecond)

	c.Disconnect()
	if r := <-reasons; r != "client namespace disconnect" {
		t.Errorf("reason %q", r)
	}
}

// Await leaves the other events queued; AwaitFunc drops the ones of its
// name before its match.
func TestClientQueues(t *testing.T) {
	io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{}))
	io.OnConnection(func(s *sockio.Socket) {
		s.On("burst", func() {
			for i := range 3 {
				_ = s.Emit("n", i)
				_ = s.Emit("other", i)
			}
			_ = s.Emit("end")
		})
	})
	c := sockiotest.Connect(t, hs.URL, "/")
	c.Emit("burst")
	c.Await("end")
	if c.Pending("n") != 3 || c.Pending("other") != 3 {
		t.Fatalf("pending %d %d", c.Pending("n"), c.Pending("other"))
	}
	ev := c.AwaitFunc("n", func(e sockiotest.Event) bool { return string(e.Args[0]) == "1" })
	if string(ev.Args[0]) != "1" || c.Pending("n") != 1 || c.Pending("other") != 3 {
		t.Fatalf("AwaitFunc took %s, left %d n, %d other", ev, c.Pending("n"), c.Pending("other"))
	}
	if ev := c.Expect("other"); string(ev.Args[0]) != "0" {
		t.Errorf("next %s", ev)
	}
	if _, err := c.NextNamed("missing", 20*time.Millisecond); err == nil {
		t.Error("NextNamed found a missing event")
	}
}

func TestConnectRefused(t *testing.T) {
	io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{}))
	io.Use(func(s *sockio.Socket) error {
		if s.Handshake().Auth["token"] != "ok" {
			return &sockio.ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "bad token"}}
		}
		return nil
	})
	_, err := sockiotest.TryConnect(t, hs.URL, sockiotest.ClientOptions{Auth: map[string]any{"token": "no"}})
	var ce *sockiotest.ConnectError
	if !errors.As(err, &ce) || ce.Message != "unauthorized" || string(ce.Data) != `{"reason":"bad token"}` {
		t.Errorf("refused: %v", err)
	}
	_, err = sockiotest.TryConnect(t, hs.URL, sockiotest.ClientOptions{Namespace: "/nope"})
	if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
		t.Errorf("unknown namespace: %v", err)
	}
	c := sockiotest.ConnectWith(t, hs.URL, sockiotest.ClientOptions{Auth: map[string]any{"token": "ok"}})
	if c.ID() == "" {
		t.Error("no id")
	}
}

func TestConn(t *testing.T) {
	_, url, reasons := echoServer(t)
	c := sockiotest.DialWith(t, url, sockiotest.ConnOptions{Timeout: 5 * time.Second})
	if c.SID == "" || !strings.Contains(string(c.Open), `"pingInterval"`) {
		t.Errorf("open packet %s", c.Open)
	}
	if got := c.Connect("/", map[string]any{"name": "raw"}); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("connect answer %q", got)
	}
	c.Expect(`42["welcome","raw"]`)
	// Raw args come back byte for byte.
	c.Send(`421["echo",{"b":1,"a":2.50}]`)
	c.Expect(`431[{"b":1,"a":2.50}]`)
	c.Send(`451-2["echo",{"_placeholder":true,"num":0}]`)
	c.SendBinary([]byte{1, 2, 3})
	c.Expect(`461-2[{"_placeholder":true,"num":0}]`)
	c.ExpectBinary([]byte{1, 2, 3})
	c.ExpectNone(50 * time.Millisecond)
	// A parse error ends the connection.
	c.Send(`42{"a":1}`)
	if err := c.ExpectClosed(); err == nil {
		t.Error("ExpectClosed without an error")
	}
	if r := <-reasons; r != "parse error" {
		t.Errorf("reason %q", r)
	}
	if _, err := c.Next(time.Second); !errors.As(err, new(*sockiotest.ClosedError)) {
		t.Errorf("Next after the end: %v", err)
	}
}

// With Pings, the test sees the server's pings and answers them itself;
// without, the Conn answers them and the session lives on.
func TestConnPings(t *testing.T) {
	io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 200 * time.Millisecond}))
	io.OnConnection(func(s *sockio.Socket) { s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) }) })
	manual := sockiotest.DialWith(t, hs.URL, sockiotest.ConnOptions{Pings: true})
	for range 3 {
		manual.Expect("2")
		manual.Send("3")
	}
	auto := sockiotest.Dial(t, hs.URL)
	auto.Connect("/", nil)
	for i := range 5 {
		time.Sleep(100 * time.Millisecond) // several ping intervals
		auto.Send(fmt.Sprintf(`42%d["echo",%d]`, i, i))
		auto.Expect(fmt.Sprintf(`43%d[%d]`, i, i))
	}
}

// A recovering server: the client drops its connection, misses an event,
// and gets it back on Reconnect, with its id.
func TestClientReconnectRecovers(t *testing.T) {
	io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{ConnectionStateRecovery: &sockio.RecoveryOptions{}}))
	io.OnConnection(func(s *sockio.Socket) { s.On("join", func(r string) { s.Join(r) }) })
	c := sockiotest.ConnectWith(t, hs.URL, sockiotest.ClientOptions{Name: "roamer", Offsets: true})
	if c.PID() == "" {
		t.Fatal("no pid from a recovering server")
	}
	id := c.ID()
	_ = io.Emit("first", 1)
	if ev := c.Expect("first"); ev.Offset == "" || len(ev.Args) != 1 || c.Offset() != ev.Offset {
		t.Fatalf("first: %s offset %q (client %q)", ev, ev.Offset, c.Offset())
	}
	c.Close()
	sockiotest.WaitFor(t, 5*time.Second, func() error {
		if n := len(io.Of("/").Sockets()); n != 0 {
			return fmt.Errorf("%d sockets", n)
		}
		return nil
	})
	_ = io.Emit("missed", 2)
	if err := c.Reconnect(hs.URL); err != nil {
		t.Fatal(err)
	}
	if c.ID() != id {
		t.Errorf("recovered as %q, want %q", c.ID(), id)
	}
	var n int
	c.Expect("missed").Arg(t, 0, &n)
	if n != 2 {
		t.Errorf("missed %d", n)
	}
}

// recordT is a TB that records instead of stopping.
type recordT struct {
	fatal, skip string
	cleanups    []func()
}

func (r *recordT) Helper()                      {}
func (r *recordT) Cleanup(f func())             { r.cleanups = append(r.cleanups, f) }
func (r *recordT) Errorf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recordT) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recordT) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }
func (r *recordT) Logf(string, ...any)          {}
func (r *recordT) Name() string                 { return "TestRecord/sub test" }
func (r *recordT) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestWaitForReportsLastError(t *testing.T) {
	r := &recordT{}
	n := 0
	sockiotest.WaitFor(r, 60*time.Millisecond, func() error { n++; return fmt.Errorf("try %d", n) })
	if n < 2 || !strings.Contains(r.fatal, fmt.Sprintf("try %d", n)) {
		t.Errorf("after %d tries: %q", n, r.fatal)
	}
	r = &recordT{}
	n = 0
	sockiotest.WaitFor(r, time.Minute, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if r.fatal != "" || n != 3 {
		t.Errorf("met on try %d: %q", n, r.fatal)
	}
}

// An unreachable broker skips the test, or fails it on CI.
func TestBrokerUnavailable(t *testing.T) {
	t.Setenv(sockiotest.RedisEnv, "127.0.0.1:1")
	t.Setenv(sockiotest.NATSEnv, "nats://127.0.0.1:1")
	t.Setenv("CI", "")
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recordT{}
		if sockiotest.Redis(r) != nil || sockiotest.NATS(r) != nil {
			t.Fatal("a broker at port 1")
		}
		if ci == "" && (r.skip == "" || r.fatal != "") {
			t.Errorf("no CI: skip %q, fatal %q", r.skip, r.fatal)
		}
		if ci != "" && (r.fatal == "" || r.skip != "" || !strings.Contains(r.fatal, "CI")) {
			t.Errorf("CI: skip %q, fatal %q", r.skip, r.fatal)
		}
		r.cleanup()
	}
}

// Each test gets its own Redis prefix; its keys are gone when it ends.
func TestRedisPrefix(t *testing.T) {
	var key string
	t.Run("writer", func(t *testing.T) {
		r := sockiotest.Redis(t)
		if !strings.HasPrefix(r.Prefix, "sockiotest_TestRedisPrefix_writer_") {
			t.Errorf("prefix %q", r.Prefix)
		}
		if other := sockiotest.Prefix(t); other == r.Prefix {
			t.Errorf("two prefixes alike: %q", other)
		}
		key = r.Prefix + ":k"
		if err := r.NewClient().Set(context.Background(), key, "v", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	})
	if key == "" {
		t.Skip("no Redis")
	}
	c := sockiotest.Redis(t).NewClient()
	if n, err := c.Exists(context.Background(), key).Result(); err != nil || n != 0 {
		t.Errorf("%s after its test: %d, %v", key, n, err)
	}
}

// Each test gets its own NATS prefix; its streams are gone when it ends.
func TestNATSPrefix(t *testing.T) {
	var stream string
	t.Run("writer", func(t *testing.T) {
		n := sockiotest.NATS(t)
		js, err := jetstream.New(n.Conn)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stream = n.Prefix + "_S"
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{n.Prefix + ".>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
	})
	if stream == "" {
		t.Skip("no NATS")
	}
	js, err := jetstream.New(sockiotest.NATS(t).Conn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.Stream(ctx, stream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("stream %s after its test: %v", stream, err)
	}
}

// stuckServer's Close fails as one that hangs does when its context
// ends (at once: the test need not wait CloseTimeout).
type stuckServer struct{ *sockio.Server }

func (stuckServer) Close(context.Context) error { return context.DeadlineExceeded }

// NewServer's cleanup fails the test when Close hangs.
func TestNewServerReportsHang(t *testing.T) {
	r := &recordT{}
	io := sockio.NewServer(sockio.Options{})
	t.Cleanup(func() { _ = io.Close(context.Background()) })
	sockiotest.NewServer(r, stuckServer{io})
	r.cleanup()
	if !strings.Contains(r.fatal, "failed to close the server") {
		t.Errorf("cleanup said %q", r.fatal)
	}
}
