// Package packet implements the Engine.IO protocol v4 packet codec.
//
// An Engine.IO packet is a type (open, close, ping, pong, message, upgrade,
// noop) and optional data. There are two wire encodings:
//
// WebSocket: one packet per frame. A text frame is the type digit followed
// by the data; a binary frame is a message whose data is the whole frame.
//
//	4hello            message "hello"
//	2probe            ping "probe"
//	0{"sid":"..."}    open with the JSON handshake
//	<01 02 03 04>     binary frame: binary message 01 02 03 04
//
// HTTP long-polling: a payload is the text form of each packet joined by the
// record separator 0x1e (no trailing separator). Binary messages are sent as
// "b" followed by standard, padded base64 of the data.
//
//	4hello\x1e2\x1e4world
//	4hello\x1ebAQIDBA==
//
// Text data must be UTF-8. DecodeText leaves that check to the WebSocket
// transport (a text frame that is not UTF-8 closes the connection with
// 1007, as the reference's ws library does); DecodePayload, for polling,
// replaces ill-formed sequences with U+FFFD, as the reference's UTF-8
// decoding of the HTTP body does. The codec does not escape 0x1e inside
// text data: per the spec, text data must not contain the separator, so
// callers building payloads must not put it there (JSON encoders escape it
// as \u001e).
package packet
