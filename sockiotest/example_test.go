package sockiotest_test

import (
	"context"
	"fmt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/sockiotest"
)

// In a test, t is the test's *testing.T; an Example has none, so this one
// brings a TB of its own.
func Example() {
	t := &exampleT{}
	defer t.cleanup()

	io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{}))
	io.OnConnection(func(s *sockio.Socket) {
		s.On("echo", func(e *sockio.Event) { _ = e.Ack(e.Args) })
		_ = s.Emit("welcome", "hi")
	})

	// A Socket.IO client of "/": events, acknowledgements.
	c := sockiotest.Connect(t, hs.URL, "/")
	fmt.Println(c.Expect("welcome"))
	res, err := c.EmitWithAck(context.Background(), "echo", "hello", []byte{1, 2})
	fmt.Println(string(res.Args[0]), string(res.Args[1]), res.Attachments, err)

	// The packets themselves.
	raw := sockiotest.Dial(t, hs.URL)
	fmt.Println(raw.Connect("/", nil)[:4])
	raw.Expect(`42["welcome","hi"]`)
	raw.Send(`421["echo",{"b":1,"a":2.50}]`)
	fmt.Println(raw.Read())
	// Output:
	// welcome "hi"
	// "hello" {"_placeholder":true,"num":0} [[1 2]] <nil>
	// 40{"
	// 431[{"b":1,"a":2.50}]
}

// exampleT is a TB for an Example: a failure panics, and cleanup runs
// what the kit registered, last first.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                      {}
func (t *exampleT) Cleanup(f func())             { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
func (t *exampleT) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
func (t *exampleT) Skipf(f string, args ...any)  { panic(fmt.Sprintf(f, args...)) }
func (t *exampleT) Logf(string, ...any)          {}
func (t *exampleT) Name() string                 { return "Example" }
func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
