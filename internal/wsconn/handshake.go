package wsconn

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// acceptGUID is RFC 6455's fixed suffix of the accept key (section 1.3).
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// UpgradeOptions configure Upgrade, the accept path of the plain WebSocket
// layer. It adds to AcceptOptions what that layer needs and engineio does not.
type UpgradeOptions struct {
	AcceptOptions
	// Subprotocol is the subprotocol chosen for this connection, already
	// checked against the client's offer; empty selects none. When set,
	// AcceptOptions.Subprotocols is ignored.
	Subprotocol string
	// HandshakeTimeout bounds writing the handshake response.
	HandshakeTimeout time.Duration
}

// Accept completes the WebSocket handshake on w and r (RFC 6455 4.2.2).
// A refused handshake is answered with an HTTP error status.
func Accept(w http.ResponseWriter, r *http.Request, opts AcceptOptions) (*Conn, error) {
	return accept(w, r, UpgradeOptions{AcceptOptions: opts}, false)
}

// Upgrade completes the WebSocket handshake like Accept, with the options
// of the plain WebSocket layer; refusals carry their reason in the body.
func Upgrade(w http.ResponseWriter, r *http.Request, opts UpgradeOptions) (*Conn, error) {
	return accept(w, r, opts, true)
}

func accept(w http.ResponseWriter, r *http.Request, opts UpgradeOptions, verbose bool) (*Conn, error) {
	fail := func(status int, why string) (*Conn, error) {
		body := http.StatusText(status)
		if verbose {
			body += ": websocket: " + why
		}
		http.Error(w, body, status)
		return nil, fmt.Errorf("failed to accept websocket: %s", why)
	}
	switch {
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		return fail(http.StatusBadRequest, "'upgrade' token not found in 'Connection' header")
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		return fail(http.StatusBadRequest, "'websocket' token not found in 'Upgrade' header")
	case r.Method != http.MethodGet:
		return fail(http.StatusMethodNotAllowed, "request method is not GET")
	case !headerHasToken(r.Header, "Sec-Websocket-Version", "13"):
		return fail(http.StatusBadRequest, "unsupported version")
	case opts.CheckOrigin != nil && !opts.CheckOrigin(r):
		return fail(http.StatusForbidden, "request origin not allowed")
	}
	key := r.Header.Get("Sec-Websocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		return fail(http.StatusBadRequest, "'Sec-WebSocket-Key' header must be Base64 encoded value of 16-byte length")
	}
	subprotocol := opts.Subprotocol
	if subprotocol == "" && len(opts.Subprotocols) > 0 {
		offered := HeaderTokens(r.Header, "Sec-Websocket-Protocol")
		for _, p := range opts.Subprotocols {
			if containsFold(offered, p) {
				subprotocol = p
				break
			}
		}
	}
	var (
		params    deflateParams
		extension string
		deflateOK bool
	)
	if opts.Compression {
		params, extension, deflateOK = negotiateDeflate(r.Header, opts.ContextTakeover)
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return fail(http.StatusInternalServerError, "response does not implement http.Hijacker")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return fail(http.StatusInternalServerError, err.Error())
	}
	if brw.Reader.Buffered() > 0 {
		_ = nc.Close()
		return nil, errors.New("failed to accept websocket: client sent data before handshake is complete")
	}

	c := newConn(nc, false, subprotocol, opts.ReadLimit, opts.WriteBufferSize)
	if deflateOK {
		c.defl = newDeflate(params, false)
		c.threshold = opts.CompressionThreshold
	}
	b := make([]byte, 0, 256)
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = append(b, computeAccept(key)...)
	b = append(b, "\r\n"...)
	if subprotocol != "" {
		b = append(b, "Sec-WebSocket-Protocol: "...)
		b = append(b, subprotocol...)
		b = append(b, "\r\n"...)
	}
	if deflateOK {
		b = append(b, "Sec-WebSocket-Extensions: "...)
		b = append(b, extension...)
		b = append(b, "\r\n"...)
	}
	for k, vs := range opts.Header {
		for _, v := range vs {
			// Header values cannot hold line breaks: net/http's rule.
			v = lineBreaks.Replace(v)
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	if g := opts.Greeting; g != nil {
		b = c.appendMessage(b, Frame{Type: Text, Body: g})
	}
	if opts.HandshakeTimeout > 0 {
		_ = nc.SetWriteDeadline(time.Now().Add(opts.HandshakeTimeout))
	}
	if _, err := nc.Write(b); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("failed to write websocket handshake: %w", err)
	}
	if opts.HandshakeTimeout > 0 {
		_ = nc.SetWriteDeadline(time.Time{})
	}
	return c, nil
}

// computeAccept is Sec-WebSocket-Accept for key (RFC 6455 4.2.2).
func computeAccept(key string) string {
	sum := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

var lineBreaks = strings.NewReplacer("\r", " ", "\n", " ")

// headerHasToken reports whether a comma-separated header holds token,
// ignoring case (RFC 7230 3.2.6).
func headerHasToken(h http.Header, name, token string) bool {
	return containsFold(HeaderTokens(h, name), token)
}

// HeaderTokens splits a comma-separated header's values into trimmed,
// non-empty tokens, in order (RFC 7230 7).
func HeaderTokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, t := range list {
		if strings.EqualFold(t, s) {
			return true
		}
	}
	return false
}
