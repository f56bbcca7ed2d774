// Package engineio implements the server side of the Engine.IO protocol,
// version 4: the transport layer under Socket.IO.
//
// A Server is an http.Handler. Each client gets a Session, reached over HTTP
// long-polling, WebSocket, or polling first and then WebSocket after the
// upgrade dance (2probe, 3probe, 5). The session outlives a transport switch:
// packets sent during the upgrade are delivered once, on one transport.
//
// The server pings every PingInterval and closes a session whose pong is late
// by PingTimeout. Sends from any goroutine go into a bounded per-session
// queue drained by one writer; a consumer that lets the queue fill up is
// disconnected with reason "slow consumer" instead of growing memory.
//
// What a client sends is bounded too, by default as Node.js bounds it for
// the reference: a request's head (MaxHeaderBytes, 431) and target
// (MaxURLBytes, 414), what a session keeps of its handshake, a polling POST
// body in size (MaxHTTPBufferSize, 413) and in time (PostTimeout), and,
// when AllowedOrigins is set, the browser origins that may connect (403).
// The http.Server that serves it should still set ReadHeaderTimeout,
// IdleTimeout and a MaxHeaderBytes of its own: a head is read, and an idle
// connection kept, before this handler is reached.
//
// Requests of one session over two connections (a poll and a POST, a poll
// and an upgrading websocket) are ordered by rules that give the
// reference's single-event-loop outcome whatever the scheduling (see
// order.go): a GET that comes during an upgrade while the websocket has
// unread bytes waits for the upgrade's outcome (400 once upgraded), and a
// close POSTed with no poll pending lets a GET handled before the POST's
// answer get its noop.
// InitialHeaders and Headers are the reference's "initial_headers" and
// "headers" events.
//
// The layer above (package sockio) registers with OnConnection and receives
// a session's messages through its Handler, in arrival order.
package engineio
