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
// The layer above (package sockio) registers with OnConnection and receives
// a session's messages through its Handler, in arrival order.
package engineio
