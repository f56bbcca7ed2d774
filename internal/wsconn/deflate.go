package wsconn

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// permessage-deflate (RFC 7692) on compress/flate. Its window is always
// 32 KiB: this end compresses with window bits 15, so an offer that asks
// for a smaller window on our side is declined (RFC 7692 5: a server may
// decline any offer), while any window the peer compresses with inflates.

// deflateParams are the negotiated parameters of RFC 7692 7.1.
type deflateParams struct {
	serverNoTakeover bool // the server resets its compressor per message
	clientNoTakeover bool // the client resets its compressor per message
}

// compressLevel: BestSpeed, as messages are small and latency counts.
const compressLevel = flate.BestSpeed

// windowSize is the LZ77 window of RFC 1951, the dictionary carried over
// between messages with context takeover.
const windowSize = 32 << 10

// deflateTail ends every compressed message on the wire once removed
// (RFC 7692 7.2.1); finalBlock, an empty final stored block appended after
// it, lets the inflater end with io.EOF instead of asking for more.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

type extensionOffer struct {
	name   string
	params [][2]string // name, value ("" without one)
}

// parseExtensions splits Sec-WebSocket-Extensions values (RFC 6455 9.1).
func parseExtensions(h http.Header) []extensionOffer {
	var out []extensionOffer
	for _, v := range HeaderTokens(h, "Sec-Websocket-Extensions") {
		parts := strings.Split(v, ";")
		e := extensionOffer{name: strings.ToLower(strings.TrimSpace(parts[0]))}
		for _, p := range parts[1:] {
			name, value, _ := strings.Cut(p, "=")
			value = strings.Trim(strings.TrimSpace(value), `"`)
			e.params = append(e.params, [2]string{strings.ToLower(strings.TrimSpace(name)), value})
		}
		out = append(out, e)
	}
	return out
}

// negotiateDeflate picks the first permessage-deflate offer the server can
// honour and returns the parameters and the response's extension value.
// Without takeover the server asks for no context takeover both ways, so
// that neither side keeps a window per connection.
func negotiateDeflate(h http.Header, takeover bool) (deflateParams, string, bool) {
offers:
	for _, e := range parseExtensions(h) {
		if e.name != "permessage-deflate" {
			continue
		}
		var p deflateParams
		seen := map[string]bool{}
		serverBits := false
		for _, kv := range e.params {
			name, value := kv[0], kv[1]
			if seen[name] {
				continue offers // RFC 7692 7: a parameter appears at most once
			}
			seen[name] = true
			switch name {
			case "server_no_context_takeover":
				if value != "" {
					continue offers
				}
				p.serverNoTakeover = true
			case "client_no_context_takeover":
				if value != "" {
					continue offers
				}
				p.clientNoTakeover = true
			case "server_max_window_bits":
				// Our compressor's window is 32 KiB: only 15 can be honoured.
				if value != "15" {
					continue offers
				}
				serverBits = true
			case "client_max_window_bits":
				// Without a value the client just says it supports the
				// parameter; with one, it compresses with a window our
				// 32 KiB inflater covers. Either way nothing to answer.
				if value != "" && !validWindowBits(value) {
					continue offers
				}
			default:
				continue offers
			}
		}
		if !takeover {
			p.serverNoTakeover, p.clientNoTakeover = true, true
		}
		resp := "permessage-deflate"
		if p.serverNoTakeover {
			resp += "; server_no_context_takeover"
		}
		if p.clientNoTakeover {
			resp += "; client_no_context_takeover"
		}
		if serverBits {
			resp += "; server_max_window_bits=15"
		}
		return p, resp, true
	}
	return deflateParams{}, "", false
}

func validWindowBits(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 8 && n <= 15 && v[0] != '0' && v[0] != '+'
}

// deflateOffer is the client's offer: without takeover it asks for none
// either way, as the server's default does.
func deflateOffer(takeover bool) string {
	if takeover {
		return "permessage-deflate"
	}
	return "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
}

// acceptDeflateResponse checks the server's answer to deflateOffer (RFC
// 7692 5: the client fails the connection on anything it did not offer or
// cannot honour). ok is false when the server declined compression.
func acceptDeflateResponse(h http.Header) (p deflateParams, ok bool, err error) {
	exts := parseExtensions(h)
	if len(exts) == 0 {
		return p, false, nil
	}
	if len(exts) > 1 || exts[0].name != "permessage-deflate" {
		return p, false, fmt.Errorf("%w: server chose extensions %q, not offered", ErrProtocol, h.Values("Sec-Websocket-Extensions"))
	}
	seen := map[string]bool{}
	for _, kv := range exts[0].params {
		name, value := kv[0], kv[1]
		if seen[name] {
			return p, false, fmt.Errorf("%w: permessage-deflate parameter %s repeated", ErrProtocol, name)
		}
		seen[name] = true
		switch {
		case name == "server_no_context_takeover" && value == "":
			p.serverNoTakeover = true
		case name == "client_no_context_takeover" && value == "":
			p.clientNoTakeover = true
		case name == "server_max_window_bits" && validWindowBits(value):
			// The server compresses with a smaller window: it inflates.
		default:
			// client_max_window_bits included: we did not offer it.
			return p, false, fmt.Errorf("%w: permessage-deflate parameter %s=%q not offered or not valid", ErrProtocol, name, value)
		}
	}
	return p, true, nil
}

// deflate is one connection's compression state.
type deflate struct {
	compressTakeover bool // this end keeps its compressor between messages
	inflateTakeover  bool // the peer keeps its: inflate with the last window

	fw        *flate.Writer // with compressTakeover: this connection's own
	streaming *flate.Writer // the compressor of the message NextWriter writes
	sink      appendWriter  // where fw writes
	dict      []byte        // with inflateTakeover: the last 32 KiB inflated
	whole     *wholeInflater
}

// wholeInflater inflates the messages Read returns whole.
type wholeInflater struct {
	in      inflater
	payload []byte // what is left of the message's payload
	next    func(p []byte) (int, error)
	buf     [256]byte
}

func newDeflate(p deflateParams, client bool) *deflate {
	if client {
		return &deflate{compressTakeover: !p.clientNoTakeover, inflateTakeover: !p.serverNoTakeover}
	}
	return &deflate{compressTakeover: !p.serverNoTakeover, inflateTakeover: !p.clientNoTakeover}
}

// appendWriter appends what is written to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

var writerPool = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(nil, compressLevel)
	return fw
}}

// compress appends the compressed payload of head and body to dst, the
// tail removed (RFC 7692 7.2.1). It runs under the write lock: with
// context takeover the order of messages is the order of the stream.
func (d *deflate) compress(dst []byte, parts ...[]byte) []byte {
	var fw *flate.Writer
	var sink *appendWriter
	if d.compressTakeover {
		if d.fw == nil {
			d.fw, _ = flate.NewWriter(&d.sink, compressLevel)
		}
		fw, sink = d.fw, &d.sink
		sink.b = dst
	} else {
		fw = writerPool.Get().(*flate.Writer)
		sink = &appendWriter{b: dst}
		fw.Reset(sink)
	}
	for _, p := range parts {
		_, _ = fw.Write(p) // appendWriter never fails
	}
	_ = fw.Flush()
	out := sink.b
	sink.b = nil
	if !d.compressTakeover {
		fw.Reset(nil)
		writerPool.Put(fw)
	}
	// A sync flush ends with the empty stored block 00 00 ff ff.
	return out[:len(out)-4]
}

var readerPool = sync.Pool{New: func() any { return flate.NewReader(nil) }}

// payloadSource feeds one message's compressed payload and then
// deflateTail to the inflater, as an io.ByteReader so that flate does not
// wrap it in a bufio.Reader of its own.
type payloadSource struct {
	next func(p []byte) (int, error) // the payload, then io.EOF
	buf  []byte
	r, w int
	tail int // bytes of deflateTail given; -1 while the payload lasts
}

func (s *payloadSource) fill() error {
	if s.tail >= 0 {
		if s.tail == len(deflateTail) {
			return io.EOF
		}
		s.buf, s.r, s.w = deflateTail, s.tail, len(deflateTail)
		s.tail = len(deflateTail)
		return nil
	}
	n, err := s.next(s.buf)
	s.r, s.w = 0, n
	if err == io.EOF {
		s.tail = 0
		if n == 0 {
			return s.fill()
		}
		return nil
	}
	return err
}

func (s *payloadSource) Read(p []byte) (int, error) {
	if s.r == s.w {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf[s.r:s.w])
	s.r += n
	return n, nil
}

func (s *payloadSource) ReadByte() (byte, error) {
	if s.r == s.w {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	s.r++
	return s.buf[s.r-1], nil
}

// inflater reads one compressed message.
type inflater struct {
	d   *deflate
	src payloadSource
	fr  io.ReadCloser
	n   uint64 // bytes inflated
}

// start prepares to inflate a message whose payload next yields.
func (d *deflate) start(in *inflater, next func(p []byte) (int, error), buf []byte) {
	in.d, in.n = d, 0
	in.src = payloadSource{next: next, buf: buf[:cap(buf)], tail: -1}
	in.fr = readerPool.Get().(io.ReadCloser)
	_ = in.fr.(flate.Resetter).Reset(&in.src, d.dict)
}

// Read inflates; corrupt input is reported wrapping ErrInvalidPayload.
func (in *inflater) Read(p []byte) (int, error) {
	n, err := in.fr.Read(p)
	in.n += uint64(n)
	if in.d.inflateTakeover && n > 0 {
		in.d.remember(p[:n])
	}
	if err != nil && err != io.EOF {
		var ce flate.CorruptInputError
		if errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: %v", ErrInvalidPayload, err)
		}
	}
	return n, err
}

// finish returns the flate reader to its pool.
func (in *inflater) finish() {
	if in.fr != nil {
		readerPool.Put(in.fr)
		in.fr = nil
	}
	in.src = payloadSource{}
}

// remember keeps the last 32 KiB inflated, the next message's dictionary.
func (d *deflate) remember(p []byte) {
	if len(p) >= windowSize {
		d.dict = append(d.dict[:0], p[len(p)-windowSize:]...)
		return
	}
	if over := len(d.dict) + len(p) - windowSize; over > 0 {
		d.dict = d.dict[:copy(d.dict, d.dict[over:])]
	}
	d.dict = append(d.dict, p...)
}
