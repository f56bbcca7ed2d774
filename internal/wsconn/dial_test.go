package wsconn

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func dialCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDialClientProxyAndCookies: the handshake goes through an HTTP
// proxy's CONNECT, sends the jar's cookies and keeps the ones it sets.
func TestDialClientProxyAndCookies(t *testing.T) {
	var sawCookie atomic.Value
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie("io"); err == nil {
			sawCookie.Store(ck.Value)
		}
		c, err := Accept(w, r, AcceptOptions{Header: http.Header{"Set-Cookie": {"io=sticky; Path=/"}}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, data, err := c.Read()
		if err == nil {
			_ = c.Write(typ, nil, data, false)
		}
		_, _, _ = c.Read()
	}))
	defer hs.Close()

	// A CONNECT proxy: answers 200 and pipes both ways.
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	var connects atomic.Int32
	go func() {
		for {
			c, err := pl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				up, err := net.Dial("tcp", req.Host)
				if err != nil {
					return
				}
				defer up.Close()
				connects.Add(1)
				_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				go func() { _, _ = io.Copy(up, br) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	proxyURL, _ := url.Parse("http://" + pl.Addr().String())
	jar, _ := cookiejar.New(nil)
	u := "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=4"
	for i := range 2 {
		c, _, err := DialClient(dialCtx(t), u, ClientOptions{Jar: jar, Proxy: http.ProxyURL(proxyURL)})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(Text, []byte("4"), []byte("via proxy"), false); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, data, err := c.Read(); err != nil || string(data) != "4via proxy" {
			t.Fatalf("dial %d: echo %q, %v", i, data, err)
		}
		_ = c.Close(CloseNormal, "")
	}
	if connects.Load() != 2 {
		t.Fatalf("%d CONNECTs through the proxy, want 2", connects.Load())
	}
	if v, _ := sawCookie.Load().(string); v != "sticky" {
		t.Fatalf("second handshake carried cookie %q, want the one the first set", v)
	}
}

// TestDialRejectsBadHandshakes: a client fails a handshake whose answer is
// not a valid upgrade (RFC 6455 4.1), and hands back a refusal's status
// and body.
func TestDialRejectsBadHandshakes(t *testing.T) {
	answer := func(resp string) string {
		ln := listen(t)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					req, err := http.ReadRequest(bufio.NewReader(c))
					if err != nil {
						return
					}
					key := req.Header.Get("Sec-Websocket-Key")
					_, _ = io.WriteString(c, strings.ReplaceAll(resp, "ACCEPT", computeAccept(key)))
					time.Sleep(100 * time.Millisecond)
				}()
			}
		}()
		return "ws://" + ln.Addr().String() + "/"
	}
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ACCEPT\r\n"
	cases := map[string]string{
		"wrong accept":        strings.Replace(ok, "ACCEPT", "dGhlIHNhbXBsZSBub25jZQ==", 1) + "\r\n",
		"no upgrade header":   strings.Replace(ok, "Upgrade: websocket\r\n", "", 1) + "\r\n",
		"subprotocol unasked": ok + "Sec-WebSocket-Protocol: chat\r\n\r\n",
		"extension unasked":   ok + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
		"200":                 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnope!",
	}
	for name, resp := range cases {
		t.Run(name, func(t *testing.T) {
			_, res, err := Dial(dialCtx(t), answer(resp), DialOptions{})
			if !errors.Is(err, ErrBadHandshake) {
				t.Fatalf("error %v, want ErrBadHandshake", err)
			}
			if name == "200" {
				body, _ := io.ReadAll(res.Body)
				if res.StatusCode != 200 || string(body) != "nope!" {
					t.Fatalf("response %d %q", res.StatusCode, body)
				}
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		c, _, err := Dial(dialCtx(t), answer(ok+"\r\n"), DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.CloseNow()
	})
}

// TestClientMasksEachFrame: a client's frames are masked, each with a key
// of its own (RFC 6455 5.3), and unmask to what was written.
func TestClientMasksEachFrame(t *testing.T) {
	ln := listen(t)
	c, peer := rawPair(t, ln, 0)
	c.client, c.keys = true, newKeySource()
	go func() {
		for range 8 {
			_ = c.Write(Text, []byte("4"), []byte("same payload"), false)
		}
		_ = c.Ping([]byte("p"), time.Now().Add(time.Second))
	}()
	keys := map[[4]byte]bool{}
	for i := range 9 {
		var h [6]byte
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(peer, h[:]); err != nil {
			t.Fatal(err)
		}
		if h[1]&0x80 == 0 {
			t.Fatalf("frame %d not masked", i)
		}
		key := [4]byte(h[2:6])
		keys[key] = true
		p := make([]byte, h[1]&0x7f)
		_, _ = io.ReadFull(peer, p)
		unmask(key, p)
		if want := map[bool]string{true: "p", false: "4same payload"}[i == 8]; string(p) != want {
			t.Fatalf("frame %d: %q, want %q", i, p, want)
		}
	}
	if len(keys) != 9 {
		t.Fatalf("%d distinct keys in 9 frames", len(keys))
	}
}
