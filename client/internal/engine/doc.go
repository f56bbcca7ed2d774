// Package engine is the Engine.IO protocol v4 client under package client:
// the handshake, the HTTP long-polling, WebSocket and WebTransport
// transports (the last through a dialer the user gives, so QUIC is linked
// only by programs that use it), the upgrade from polling to the others,
// and the client half of the
// heartbeat (answer pings; a server silent for pingInterval+pingTimeout
// means the connection is lost).
//
// A Conn is one Engine.IO session. Dial performs the handshake; Start then
// runs the transport: one reader (the poll loop, the WebSocket or the
// WebTransport stream reader)
// and one writer, plus a short-lived probe goroutine during an upgrade.
// Every goroutine ends when the session ends; Close waits for them.
//
// The packet codec is engineio/packet, shared with the server.
package engine
