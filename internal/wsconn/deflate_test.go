package wsconn

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestNegotiateDeflate: what the server answers to offers (RFC 7692 7):
// a server window under 15 bits or an unknown or repeated parameter
// declines that offer (the next may do); without takeover both sides are
// asked for none.
func TestNegotiateDeflate(t *testing.T) {
	cases := []struct {
		offer    string
		takeover bool
		want     string // "" = declined
	}{
		{"permessage-deflate", false, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate", true, "permessage-deflate"},
		{"permessage-deflate; client_max_window_bits", true, "permessage-deflate"},
		{"permessage-deflate; client_max_window_bits=10", true, "permessage-deflate"},
		{"permessage-deflate; client_no_context_takeover", true, "permessage-deflate; client_no_context_takeover"},
		{"permessage-deflate; server_no_context_takeover", true, "permessage-deflate; server_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits=15", true, "permessage-deflate; server_max_window_bits=15"},
		{"permessage-deflate; server_max_window_bits=10", true, ""},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", true, "permessage-deflate"},
		{"permessage-deflate; server_max_window_bits", true, ""},
		{"permessage-deflate; client_max_window_bits=16", true, ""},
		{"permessage-deflate; client_max_window_bits=08", true, ""},
		{"permessage-deflate; server_no_context_takeover=1", true, ""},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", true, ""},
		{"permessage-deflate; mystery", true, ""},
		{"x-webkit-deflate-frame", true, ""},
		{`permessage-deflate; client_max_window_bits="12"`, true, "permessage-deflate"},
	}
	for _, tc := range cases {
		_, got, ok := negotiateDeflate(http.Header{"Sec-Websocket-Extensions": {tc.offer}}, tc.takeover)
		if !ok {
			got = ""
		}
		if got != tc.want {
			t.Errorf("offer %q (takeover %v): answered %q, want %q", tc.offer, tc.takeover, got, tc.want)
		}
	}
}

// TestAcceptDeflateResponse: the client fails a connection whose server
// chose what was not offered.
func TestAcceptDeflateResponse(t *testing.T) {
	for resp, ok := range map[string]bool{
		"permessage-deflate": true,
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover": true,
		"permessage-deflate; server_max_window_bits=9":                               true,
		"permessage-deflate; client_max_window_bits=10":                              false, // not offered
		"permessage-deflate; server_max_window_bits=7":                               false,
		"permessage-deflate; mystery":                                                false,
		"permessage-deflate, permessage-deflate":                                     false,
		"x-other":                                                                    false,
	} {
		_, accepted, err := acceptDeflateResponse(http.Header{"Sec-Websocket-Extensions": {resp}})
		if (err == nil && accepted) != ok {
			t.Errorf("response %q: accepted %v, %v; want ok %v", resp, accepted, err, ok)
		}
	}
}

// FuzzNegotiateDeflate: any offer gives a valid answer or none, and our
// own client accepts every answer the server gives.
func FuzzNegotiateDeflate(f *testing.F) {
	for _, s := range []string{"permessage-deflate", "permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=15; client_no_context_takeover", "a, b; c=d, permessage-deflate;;=",
		`permessage-deflate; client_max_window_bits="9"`} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, offer string, takeover bool) {
		_, resp, ok := negotiateDeflate(http.Header{"Sec-Websocket-Extensions": {offer}}, takeover)
		if !ok {
			return
		}
		if _, accepted, err := acceptDeflateResponse(http.Header{"Sec-Websocket-Extensions": {resp}}); err != nil || !accepted {
			t.Fatalf("offer %q: answer %q refused: %v", offer, resp, err)
		}
	})
}

// deflatePair connects our client to our server with compression; takeover
// is asked for on both sides.
func deflatePair(t *testing.T, takeover bool, limit int64) (srv, cl *Conn) {
	t.Helper()
	got := make(chan *Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, AcceptOptions{Compression: true, ContextTakeover: takeover, ReadLimit: limit, WriteBufferSize: 1000})
		if err != nil {
			t.Error(err)
		}
		got <- c
	}))
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, _, err := Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), DialOptions{Compression: true, ContextTakeover: takeover, ReadLimit: limit, WriteBufferSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv = <-got
	if srv == nil || !srv.Compressed() || !cl.Compressed() {
		t.Fatal("compression not negotiated")
	}
	if srv.defl.compressTakeover != takeover || cl.defl.inflateTakeover != takeover {
		t.Fatalf("takeover %v not agreed", takeover)
	}
	t.Cleanup(func() { srv.CloseNow(); cl.CloseNow() })
	return srv, cl
}

// TestDeflateBothWays: our client and server, with and without context
// takeover, whole and streamed messages in both directions; with takeover
// a repeated message costs less on the wire the second time.
func TestDeflateBothWays(t *testing.T) {
	msgs := [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte("abc"), 20000), []byte(`{"a":1}`)}
	for _, takeover := range []bool{false, true} {
		t.Run(fmt.Sprintf("takeover=%v", takeover), func(t *testing.T) {
			srv, cl := deflatePair(t, takeover, 1<<20)
			for _, dir := range [][2]*Conn{{cl, srv}, {srv, cl}} {
				from, to := dir[0], dir[1]
				for i, m := range msgs {
					errc := make(chan error, 1)
					go func() {
						if err := from.Write(Binary, nil, m, true); err != nil {
							errc <- err
							return
						}
						w, _ := from.NextWriter(Text, true)
						_, _ = w.Write(m)
						errc <- w.Close()
					}()
					typ, got, err := to.Read()
					if err != nil || typ != Binary || !bytes.Equal(got, m) {
						t.Fatalf("message %d: type %d, %d bytes, %v", i, typ, len(got), err)
					}
					typ, r, err := to.NextReader()
					if err != nil {
						t.Fatal(err)
					}
					got, err = io.ReadAll(r)
					if err != nil || typ != Text || !bytes.Equal(got, m) {
						t.Fatalf("streamed message %d: type %d, %d bytes, %v", i, typ, len(got), err)
					}
					if err := <-errc; err != nil {
						t.Fatal(err)
					}
				}
			}
			// Context takeover: the same message again refers back to the
			// first, so it compresses to a few bytes.
			m := bytes.Repeat([]byte("0123456789abcdef"), 64)
			sizes := make([]int, 2)
			for i := range sizes {
				srv.wmu.Lock()
				sizes[i] = len(srv.appendMessage(nil, Frame{Type: Text, Body: m}))
				srv.wmu.Unlock()
			}
			if takeover != (sizes[1] < sizes[0]) {
				t.Fatalf("takeover %v: frame sizes %v", takeover, sizes)
			}
		})
	}
}

// TestDeflateFrames checks the wire: RSV1 only on the first frame of a
// compressed message, never on control frames, a message cut at the
// fragment size, and the 00 00 ff ff tail removed.
func TestDeflateFrames(t *testing.T) {
	ln := listen(t)
	c, peer := strictPair(t, ln, false, true)
	c.fragment = 100
	c.defl = newDeflate(deflateParams{}, false)
	msg := make([]byte, 5000)
	for i := range msg {
		msg[i] = byte(i * 7 % 251) // compresses poorly: several frames
	}
	go func() {
		w, _ := c.NextWriter(Binary, true)
		_, _ = w.Write(msg)
		_ = c.Ping([]byte("between"), time.Now().Add(time.Second))
		_ = w.Close()
	}()
	var payload []byte
	frames, rsv1 := 0, 0
	for {
		h, p := readRawFrame(t, peer)
		if h[0]&0x0f == opPing {
			if h[0]&0x70 != 0 {
				t.Fatal("ping with RSV bits")
			}
			continue
		}
		frames++
		if h[0]&0x40 != 0 {
			rsv1++
			if frames != 1 {
				t.Fatalf("RSV1 on frame %d", frames)
			}
		}
		if len(p) > 100 {
			t.Fatalf("frame of %d bytes over the fragment size", len(p))
		}
		payload = append(payload, p...)
		if h[0]&0x80 != 0 {
			break
		}
	}
	if rsv1 != 1 || frames < 2 {
		t.Fatalf("%d frames, %d with RSV1", frames, rsv1)
	}
	if bytes.HasSuffix(payload, []byte{0, 0, 0xff, 0xff}) {
		t.Fatal("tail not removed")
	}
	got, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(deflateTail))))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("inflated %d bytes, %v", len(got), err)
	}
}

func readRawFrame(t *testing.T, peer net.Conn) ([2]byte, []byte) {
	t.Helper()
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(peer, h[:]); err != nil {
		t.Fatal(err)
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		var l [2]byte
		_, _ = io.ReadFull(peer, l[:])
		n = int(l[0])<<8 | int(l[1])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(peer, p); err != nil {
		t.Fatal(err)
	}
	return h, p
}

// compressedFrame deflates msg as a client would send it, masked.
func compressedFrame(msg []byte) []byte {
	var d deflate
	return frameBytes(0xC2, d.compress(nil, msg), true)
}

// TestDeflateLimits: the read limit applies to the inflated size (a
// decompression bomb gets 1009 before it is inflated whole), corrupt
// data gets 1007, with Read and NextReader alike.
func TestDeflateLimits(t *testing.T) {
	ln := listen(t)
	bomb := compressedFrame(make([]byte, 8<<20)) // some 8 KiB on the wire
	corrupt := frameBytes(0xC2, []byte{0xff, 0xff, 0xff, 0xff, 0xff}, true)
	for _, tc := range []struct {
		name string
		in   []byte
		code int
		want error
	}{{"bomb", bomb, CloseTooBig, ErrMessageTooBig}, {"corrupt", corrupt, CloseInvalidPayload, ErrInvalidPayload}} {
		for _, streaming := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streaming=%v", tc.name, streaming), func(t *testing.T) {
				c, peer := strictPair(t, ln, false, true)
				c.rr.limit = 1 << 20
				go func() { _, _ = peer.Write(tc.in) }()
				_, _, err := readVia(c, streaming)
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				h, p := readRawFrame(t, peer)
				if h[0]&0x0f != opClose || len(p) < 2 || int(p[0])<<8|int(p[1]) != tc.code {
					t.Fatalf("got frame %x %x, want close %d", h, p, tc.code)
				}
			})
		}
	}
}

// TestDeflateGorillaPeer: gorilla/websocket, an independent implementation
// (no context takeover), reads what our server compresses and sends what
// our server inflates.
func TestDeflateGorillaPeer(t *testing.T) {
	got := make(chan *Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := Accept(w, r, AcceptOptions{Compression: true, ContextTakeover: true})
		got <- c
	}))
	defer hs.Close()
	d := websocket.Dialer{EnableCompression: true}
	ws, resp, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := <-got
	defer c.CloseNow()
	if ext := resp.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "server_no_context_takeover") {
		t.Fatalf("extension %q: gorilla asks for no context takeover", ext)
	}
	msg := bytes.Repeat([]byte("gorilla "), 5000)
	for range 3 {
		if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		if _, data, err := c.Read(); err != nil || !bytes.Equal(data, msg) {
			t.Fatalf("server read %d bytes, %v", len(data), err)
		}
		if err := c.Write(Text, nil, msg, true); err != nil {
			t.Fatal(err)
		}
		if _, data, err := ws.ReadMessage(); err != nil || !bytes.Equal(data, msg) {
			t.Fatalf("gorilla read %d bytes, %v", len(data), err)
		}
	}
}

// FuzzCompressedRead: arbitrary bytes after a valid compressed message, on
// a connection with deflate negotiated, whole and streamed: the reader
// ends with an error, never panics or hangs, and keeps the inflated size
// within the limit.
func FuzzCompressedRead(f *testing.F) {
	f.Add(compressedFrame([]byte("hello")), false)
	f.Add(compressedFrame(make([]byte, 70000)), true)
	f.Add(frameBytes(0xC1, []byte{0xff, 0x00}, true), false)
	f.Add(append(frameBytes(0x41, []byte{0xf2, 0x48}, true), frameBytes(0x80, []byte{0xcd, 0xc9, 0xc9, 0x07, 0x00}, true)...), true)
	ln := listen(f)
	f.Fuzz(func(t *testing.T, in []byte, streaming bool) {
		c, cl := rawPair(t, ln, 1<<16)
		c.defl = newDeflate(deflateParams{}, false)
		go func() {
			_, _ = cl.Write(in)
			_ = cl.(*net.TCPConn).CloseWrite()
			_, _ = io.Copy(io.Discard, cl)
		}()
		_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for i := 0; ; i++ {
			typ, data, err := readVia(c, streaming)
			if err != nil {
				if errors.Is(err, ErrProtocol) || errors.Is(err, ErrInvalidUTF8) || errors.Is(err, ErrMessageTooBig) ||
					errors.Is(err, ErrInvalidPayload) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || CloseCode(err) >= 0 {
					break
				}
				t.Fatalf("unexpected error %v", err)
			}
			if typ != Text && typ != Binary || len(data) > 1<<16 || i > len(in) {
				t.Fatalf("message %d: type %d, %d bytes from %d input bytes", i, typ, len(data), len(in))
			}
		}
	})
}
