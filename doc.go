// Package sockio is a Socket.IO v4 server for Go, wire-compatible with the
// official JavaScript clients (Engine.IO protocol 4, Socket.IO protocol 5).
//
// A Server is an http.Handler. Clients connect to a Namespace ("/" unless
// they ask for another) and get a Socket; sockets join rooms, emit and
// receive events, and acknowledge them in both directions. Broadcasts go
// through a BroadcastOperator (To, In, Except, Volatile, Timeout...) and the
// namespace's Adapter: in memory by default, Redis for a cluster.
//
//	io := sockio.NewServer(sockio.Options{})
//	io.OnConnection(func(s *sockio.Socket) {
//		s.Join("lobby")
//		s.On("chat message", func(msg string) { io.To("lobby").Emit("chat message", msg) })
//		s.On("echo", func(e *sockio.Event) { e.Ack(e.Args) })
//	})
//	http.Handle("/socket.io/", io)
//
// Handlers run one at a time per client connection, in the order the
// packets arrived, on a goroutine that exists only while there is work.
// Acknowledgements from the client are matched where they arrive, so a
// handler may block in EmitWithAck (as long as the client does not send
// 256 more events meanwhile: then the connection's reads pause, the
// acknowledgement among them).
//
// Typed handlers (func(msg string, ack sockio.Ack)) decode arguments with
// encoding/json; raw handlers (func(*sockio.Event)) see the JSON as sent,
// and passing their Args back to Emit or Ack keeps it byte for byte (with
// binary parts, the values are rebuilt and object keys come back sorted).
package sockio
