package web

import _ "embed"

// reconnectingWebSocket is the plain-WebSocket reconnecting helper (an ES
// module) that /plain.html uses; it is served as /reconnecting-websocket.js.
//
//go:embed reconnecting-websocket.js
var reconnectingWebSocket []byte

func init() { addPage("/reconnecting-websocket.js", reconnectingWebSocket) }
