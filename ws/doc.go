// Package ws is a plain WebSocket (RFC 6455) server and client for apps
// that speak their own messages rather than Socket.IO: a chat with its own
// JSON, a device feed, a game talking to the browser's native WebSocket.
//
// It sits on the same internal WebSocket layer as sockio's Engine.IO
// transport (internal/wsconn, our own RFC 6455 codec) and adds what an
// application server needs:
//
//   - Server, an http.Handler to mount at any path (or ListenAndServe), with
//     event handlers (Handlers), Connections, and BroadcastText /
//     BroadcastBinary that encode a frame once for every recipient.
//   - Conn: SendText, SendBinary, Close(code, reason), Path, Headers,
//     RemoteAddr, Subprotocol, ReadyState and a Data slot, the same on both
//     sides.
//   - Streaming: OnBinaryStream reads a message as it arrives and
//     Conn.Writer writes one in fragments of FragmentSize, so a large file
//     never sits whole in memory.
//   - Limits: MaxMessageSize (close 1009), a bounded send queue per
//     connection (a slow peer is closed with 1008 instead of growing
//     memory), write and read timeouts, an origin check, subprotocol
//     selection, and Shutdown, which sends 1001 to every peer.
//   - A heartbeat: pings at PingInterval, and a peer silent for PongTimeout
//     after a ping is closed.
//   - permessage-deflate (RFC 7692), off by default, with a size threshold.
//   - Dial, and DialReconnecting: a client that comes back after a loss with
//     exponential backoff and jitter, one attempt at a time.
//
// The server is strict, as RFC 6455 asks: text must be valid UTF-8 (checked
// as it arrives, so a bad message fails at its first bad byte, close 1007);
// reserved bits and opcodes, unmasked client frames, oversized or
// fragmented control frames, bad close codes and close bodies fail the
// connection with 1002.
//
// # Concurrency
//
// Handlers of one connection run one at a time, in arrival order, on the
// connection's reading goroutine, the only goroutine an idle connection
// has (ServeHTTP hands the connection to it and returns, so net/http frees
// the request's buffers). Sends never block: they queue, and a writer
// goroutine that exists only while the queue is not empty drains it. All
// Conn methods are safe for concurrent use.
package ws
