package engineio

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Error codes of the reference server, sent as {"code":N,"message":"..."}.
const (
	CodeUnknownTransport    = 0
	CodeUnknownSID          = 1
	CodeBadHandshakeMethod  = 2
	CodeBadRequest          = 3
	CodeForbidden           = 4
	CodeUnsupportedProtocol = 5
)

var codeMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// Close reasons, as the reference names them.
const (
	ReasonTransportClose = "transport close"
	ReasonTransportError = "transport error"
	ReasonParseError     = "parse error"
	ReasonPingTimeout    = "ping timeout"
	ReasonForcedClose    = "forced close"
	ReasonServerShutdown = "server shutting down"
	// ReasonSlowConsumer is ours: the session's send queue filled up.
	ReasonSlowConsumer = "slow consumer"
)

// Errors passed to Handler.OnClose along with the reason.
var (
	ErrClosed          = errors.New("engineio: session closed")
	ErrQueueFull       = errors.New("engineio: send queue full")
	ErrPayloadTooLarge = errors.New("engineio: payload exceeds maxHttpBufferSize")
	ErrPollOverlap     = errors.New("engineio: overlapping poll requests")
	ErrPollAborted     = errors.New("engineio: poll request closed prematurely")
	ErrBadHeartbeat    = errors.New("engineio: ping from client (invalid heartbeat direction)")
	ErrBinaryBody      = errors.New("engineio: binary polling body (Engine.IO 4 sends base64 text)")
	ErrPostTimeout     = errors.New("engineio: polling POST body not read within PostTimeout")
)

// writeError answers a refused request as the reference does: JSON
// {"code":N,"message":"..."}, 403 for Forbidden and 400 otherwise.
func writeError(w http.ResponseWriter, code int, message string) {
	writeErrorStatus(w, codeStatus(code), code, message)
}

// writeErrorStatus is writeError with another HTTP status than the
// reference's (503 for a draining server).
func writeErrorStatus(w http.ResponseWriter, status, code int, message string) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, errorMessage(code, message)})
	respond(w, status, "application/json", body)
}

// writeUpgradeError refuses a WebSocket upgrade request the way the
// reference does: the bare message as text, and the connection not reused.
func writeUpgradeError(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Connection", "close")
	refuse(w, code, "text/html", []byte(errorMessage(code, message)))
}

func errorMessage(code int, message string) string {
	if message == "" {
		return codeMessages[code]
	}
	return message
}

func refuse(w http.ResponseWriter, code int, contentType string, body []byte) {
	respond(w, codeStatus(code), contentType, body)
}

// codeStatus is the reference's HTTP status for an error code.
func codeStatus(code int) int {
	if code == CodeForbidden {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

func respond(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
