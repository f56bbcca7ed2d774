// Package sockiotest provides what tests of Socket.IO code need, as
// net/http/httptest does for HTTP: a sockio server on a loopback port
// that is shut down, and checked, when the test ends (NewServer); a
// wire-level Engine.IO connection that sends and reads raw packets (Dial,
// Conn); a Socket.IO client of one namespace that connects with auth,
// emits with or without an acknowledgement, answers the server's
// acknowledgement requests, handles binary attachments and recovers its
// session (Connect, Client); the shared Redis and NATS servers, each test
// with its own key prefix (Redis, NATS); and one way to wait for a
// condition (WaitFor).
//
// Every wait is bounded (DefaultTimeout unless the options say otherwise)
// and fails the test with what was expected; the connections are closed,
// and their goroutines ended, when the test ends.
//
// The brokers are found through SOCKIO_TEST_REDIS (host:port or a
// redis:// URL, 127.0.0.1:6379 by default) and SOCKIO_TEST_NATS
// (nats://127.0.0.1:4222 by default). A test whose broker does not
// answer is skipped, unless the CI environment variable is set: then it
// fails, since a CI machine must have them.
//
// In a test:
//
//	func TestEcho(t *testing.T) {
//		io, hs := sockiotest.NewServer(t, sockio.NewServer(sockio.Options{}))
//		io.OnConnection(func(s *sockio.Socket) {
//			s.On("echo", func(v any, ack sockio.Ack) { ack(v) })
//		})
//		c := sockiotest.Connect(t, hs.URL, "/")
//		res, err := c.EmitWithAck(context.Background(), "echo", "hi")
//		...
//		raw := sockiotest.Dial(t, hs.URL) // the packets themselves
//		raw.Connect("/", nil)
//		raw.Send(`421["echo",{"b":1,"a":2.50}]`)
//		raw.Expect(`431[{"b":1,"a":2.50}]`)
//	}
//
// The kit's functions take a TB, which *testing.T and *testing.B are.
package sockiotest
