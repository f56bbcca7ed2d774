package fastaccept

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// defaultWriteTimeout bounds the writes of a refused upgrade's response
// when the http.Server sets no WriteTimeout: the connection closes after
// it anyway, and a peer that does not read must not hold it.
const defaultWriteTimeout = 10 * time.Second

// responseWriter is the shortcut's http.ResponseWriter. A handler that
// upgrades hijacks it, after a WriteHeader(101) of its own or not. One
// that refuses writes a small response, sent with "Connection: close" when
// the handler returns, or streamed once it outgrows a buffer.
type responseWriter struct {
	c            net.Conn
	header       http.Header
	writeTimeout time.Duration
	status       int
	body         []byte
	streamed     bool // the head went out; body bytes follow as written
	hijacked     bool
	err          error
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if status < 100 || status > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", status)) // as net/http
	}
	if w.hijacked || w.status != 0 {
		return
	}
	if status < 200 && status != http.StatusSwitchingProtocols {
		return // informational responses are not sent on this path
	}
	w.status = status
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.streamed && len(w.body)+len(p) <= maxHead {
		w.body = append(w.body, p...)
		return len(p), nil
	}
	if !w.streamed {
		w.streamed = true
		sniff := w.body
		if len(sniff) == 0 {
			sniff = p
		}
		w.send(w.head(-1, sniff, true), w.body)
		w.body = nil
	}
	w.send(p)
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// Hijack hands the connection over. A status set before (a library that
// writes its own 101 through WriteHeader) is sent first, with the headers,
// as net/http does. The reader is empty: the shortcut only takes a request
// with nothing after its head.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.streamed || len(w.body) > 0 {
		return nil, nil, errors.New("fastaccept: hijack after the response body was started")
	}
	if w.status != 0 {
		if w.send(w.head(-1, nil, false)); w.err != nil {
			return nil, nil, w.err
		}
	}
	w.hijacked = true
	_ = w.c.SetWriteDeadline(time.Time{})
	rw := bufio.NewReadWriter(bufio.NewReaderSize(w.c, 16), bufio.NewWriterSize(w.c, 16))
	return w.c, rw, nil
}

// finish sends the response of a handler that returned without hijacking.
func (w *responseWriter) finish() {
	if w.streamed {
		return
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n := len(w.body)
	if !bodyAllowed(w.status) {
		n = -1
	}
	w.send(w.head(n, w.body, true), w.body)
}

// head renders the status line and headers. n >= 0 is the Content-Length;
// closing adds "Connection: close" (the body, if its length is not given,
// then ends with the connection); sniff is the start of the body, for a
// Content-Type the handler did not set.
func (w *responseWriter) head(n int, sniff []byte, closing bool) []byte {
	h := w.header
	if closing {
		if n >= 0 {
			h.Set("Content-Length", strconv.Itoa(n))
		}
		h.Set("Connection", "close")
		if _, ok := h["Content-Type"]; !ok && len(sniff) > 0 {
			h.Set("Content-Type", http.DetectContentType(sniff))
		}
		if _, ok := h["Date"]; !ok {
			h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %03d %s\r\n", w.status, http.StatusText(w.status))
	_ = h.Write(&b) // net/http's own header rendering and sanitising
	b.WriteString("\r\n")
	return b.Bytes()
}

func (w *responseWriter) send(parts ...[]byte) {
	if w.err != nil {
		return
	}
	d := w.writeTimeout
	if d <= 0 {
		d = defaultWriteTimeout
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(d))
	bufs := net.Buffers(parts)
	_, w.err = bufs.WriteTo(w.c)
}

// bodyAllowed: net/http's rule, RFC 7230 section 3.3.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
