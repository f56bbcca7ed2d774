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
//	log.Fatal(sockio.ListenAndServe(":3000", nil))
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
//
// # Serving
//
// Serve and ListenAndServe run an http.Server with limits that net/http
// leaves off by default, so that no idle, slow or oversized request holds
// a connection or memory for long: a request head must arrive within
// 10 s (DefaultReadHeaderTimeout) and fit in 16 KiB, or it gets 431
// (DefaultMaxHeaderBytes), and a keep-alive connection is closed after
// 6 s without a next request (DefaultIdleTimeout). They also accept
// WebSocket upgrades without net/http's per-connection state.
//
// To serve with an http.Server of your own (hs.ListenAndServeTLS, say),
// set those three yourself, as Serve would:
//
//	hs := &http.Server{
//		Addr:              ":3000",
//		Handler:           mux,
//		ReadHeaderTimeout: sockio.DefaultReadHeaderTimeout,
//		IdleTimeout:       sockio.DefaultIdleTimeout,
//		MaxHeaderBytes:    sockio.DefaultMaxHeaderBytes,
//	}
//
// WriteTimeout, if you set one, must be well over the ping interval (25 s
// by default): a long-polling GET is answered when packets come or a ping
// is due. ReadTimeout bounds each request's head and body (net/http lifts
// it while a long poll waits and once a connection is upgraded); the
// Server bounds a polling POST's body and the headers it keeps without
// it. A plain http.ListenAndServe(":3000", io) has none of the three
// limits: one idle connection per file descriptor is enough to make the
// process refuse everyone. The Server logs a warning (log/slog, once) when
// the http.Server that serves it has no header or idle timeout.
package sockio
