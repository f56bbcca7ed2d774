// Command deflatepeer exercises internal/wsconn's permessage-deflate
// against real peers (Node's ws, Chromium), both ways:
//
//	deflatepeer serve
//	    echo servers on two loopback ports, printed as "listening on URL"
//	    and "counting on URL": the second counts the bytes of each
//	    connection on the wire (through net.Conn, so its reads take the
//	    codec's path for TLS-like connections), answered to a "stats" text.
//	    Query: takeover=1 (context takeover when the client allows it),
//	    stream=1 (echo with NextReader/NextWriter instead of Read/Write),
//	    threshold=N (compress from N bytes; default 0).
//	deflatepeer dial URL [takeover]
//	    a client against an echo server (Node's ws): sends messages that
//	    compress well and checks their echoes, whole and streamed; prints
//	    "ok <extensions>" and exits 0, or the error and exits 1.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio/internal/wsconn"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: deflatepeer serve | dial URL [takeover]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve()
	case "dial":
		if len(os.Args) < 3 {
			fmt.Fprintln(os.Stderr, "usage: deflatepeer dial URL [takeover]")
			os.Exit(2)
		}
		if err := dial(os.Args[2], len(os.Args) > 3 && os.Args[3] == "takeover"); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	default:
		os.Exit(2)
	}
}

// countingConn counts a connection's bytes on the wire.
type countingConn struct {
	net.Conn
	in, out atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

type countingListener struct{ net.Listener }

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c}, nil
}

type connKey struct{}

func serve() {
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	counting, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hs := &http.Server{
		Handler:           http.HandlerFunc(echo),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if cc, ok := c.(*countingConn); ok {
				return context.WithValue(ctx, connKey{}, cc)
			}
			return ctx
		},
	}
	go func() { _ = hs.Serve(countingListener{counting}) }()
	fmt.Printf("listening on ws://%s\ncounting on ws://%s\n", plain.Addr(), counting.Addr())
	_ = hs.Serve(plain)
}

func echo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	threshold, _ := strconv.Atoi(q.Get("threshold"))
	c, err := wsconn.Accept(w, r, wsconn.AcceptOptions{
		Compression:          true,
		CompressionThreshold: threshold,
		ContextTakeover:      q.Get("takeover") == "1",
		ReadLimit:            32 << 20,
		WriteBufferSize:      16 << 10,
	})
	if err != nil {
		return
	}
	defer c.CloseNow()
	cc, _ := r.Context().Value(connKey{}).(*countingConn)
	for {
		if q.Get("stream") == "1" {
			err = streamEcho(c)
		} else {
			err = wholeEcho(c, cc)
		}
		if err != nil {
			code := wsconn.CloseCode(err)
			if code < 0 {
				code = wsconn.CloseInternal
			}
			_ = c.Close(code, "")
			return
		}
	}
}

func wholeEcho(c *wsconn.Conn, cc *countingConn) error {
	typ, data, err := c.Read()
	if err != nil {
		return err
	}
	if typ == wsconn.Text && string(data) == "stats" && cc != nil {
		stats, _ := json.Marshal(map[string]any{"in": cc.in.Load(), "out": cc.out.Load(), "compressed": c.Compressed()})
		return c.Write(wsconn.Text, nil, stats, false)
	}
	return c.Write(typ, nil, data, true)
}

func streamEcho(c *wsconn.Conn) error {
	typ, r, err := c.NextReader()
	if err != nil {
		return err
	}
	w, err := c.NextWriter(typ, true)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	return w.Close()
}

func dial(url string, takeover bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := wsconn.Dial(ctx, url, wsconn.DialOptions{
		Compression:     true,
		ContextTakeover: takeover,
		ReadLimit:       32 << 20,
		WriteBufferSize: 16 << 10,
	})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if !c.Compressed() {
		return errors.New("permessage-deflate not negotiated")
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var msgs [][]byte
	for i := range 20 {
		// Similar messages: with context takeover the later ones shrink.
		msgs = append(msgs, fmt.Appendf(nil, `{"i":%d,"items":%s}`, i, bytes.Repeat([]byte(`{"name":"item","ok":true},`), 100*(i%4+1))))
	}
	msgs = append(msgs, []byte{}, []byte("x"), bytes.Repeat([]byte("ab"), 3<<20))
	for i, m := range msgs {
		typ := wsconn.Text
		if i%2 == 1 {
			typ = wsconn.Binary
		}
		if err := c.Write(typ, nil, m, true); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		gt, got, err := c.Read()
		if err != nil || gt != typ || !bytes.Equal(got, m) {
			return fmt.Errorf("message %d (%d bytes): echo of type %d, %d bytes, %v", i, len(m), gt, len(got), err)
		}
		// The same, streamed in fragments and read as a stream.
		w, _ := c.NextWriter(typ, true)
		for rest := m; len(rest) > 0; {
			n := min(len(rest), 7000)
			if _, err := w.Write(rest[:n]); err != nil {
				return fmt.Errorf("streaming message %d: %w", i, err)
			}
			rest = rest[n:]
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("streaming message %d: %w", i, err)
		}
		st, r, err := c.NextReader()
		if err != nil {
			return fmt.Errorf("streamed echo %d: %w", i, err)
		}
		got, err = io.ReadAll(r)
		if err != nil || st != typ || !bytes.Equal(got, m) {
			return fmt.Errorf("streamed echo %d (%d bytes): type %d, %d bytes, %v", i, len(m), st, len(got), err)
		}
	}
	_ = c.WriteClose(wsconn.CloseNormal, "", time.Now().Add(time.Second))
	if _, _, err := c.Read(); wsconn.CloseCode(err) != wsconn.CloseNormal {
		return fmt.Errorf("closing: %v", err)
	}
	fmt.Println("ok", resp.Header.Get("Sec-Websocket-Extensions"))
	return nil
}
