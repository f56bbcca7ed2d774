// Package client is a Socket.IO v4 client for Go, for services, command
// line tools and tests that talk to a Socket.IO server: sockio or the
// Node.js reference.
//
// It mirrors the layers of the server and of the reference client: a
// Manager holds one Engine.IO connection (HTTP long-polling, WebSocket, or
// polling upgraded to WebSocket) and multiplexes namespaces over it; each
// namespace is a Socket.
//
//	s, err := client.Connect(ctx, "http://localhost:3000/chat", client.Options{
//		Auth: map[string]any{"token": "abc"},
//	})
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	s.On("chat message", func(msg string) { fmt.Println(msg) })
//	res, err := s.EmitWithAck(ctx, "echo", "hello")
//
// To register handlers before the first packet can arrive, build the
// socket with New (or Manager.Socket), call On, then Connect.
//
// Handlers of one Socket run one at a time, in the order their packets
// arrived, on a goroutine that exists only while there is work.
// Acknowledgements are matched where they arrive, so a handler may block
// in EmitWithAck. Typed handlers (func(msg string, ack client.Ack)) decode
// arguments with encoding/json; raw handlers (func(*client.Event)) see the
// JSON as sent.
//
// The Manager reconnects on its own (exponential backoff from 1s to 5s
// with randomization 0.5, as the reference), and every Socket that was
// connected joins its namespace again. Emits made while disconnected wait
// in a bounded buffer and leave in order once reconnected; volatile emits
// are dropped instead. With connection-state recovery on the server, the
// socket presents its session id and last offset when it comes back, and
// Recovered reports whether the server restored the session.
//
// Close releases everything: after it returns, no goroutine or timer of the
// connection is left, except the handlers still queued, which run on and
// then end.
package client
