package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/chat"
	"github.com/sockio/sockio/engineio"
)

func TestOriginList(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want []string
	}{
		{"", []string{engineio.SameOrigin}},
		{"*", []string{engineio.SameOrigin, "*"}},
		{" https://a.example , *.b.example,,", []string{engineio.SameOrigin, "https://a.example", "*.b.example"}},
	} {
		if got := originList(tc.flag); !slices.Equal(got, tc.want) {
			t.Errorf("--origins %q: %q, want %q", tc.flag, got, tc.want)
		}
	}
}

// `sockio serve` on its defaults serves its own pages' connections and
// non-browser clients, and refuses another site's page (403, code 4);
// --origins adds to its own.
func TestServeOriginsDefault(t *testing.T) {
	client := &http.Client{Timeout: 5 * time.Second}
	handshake := func(hs *httptest.Server, origin string) (int, string) {
		req, _ := http.NewRequest("GET", hs.URL+"/socket.io/?EIO=4&transport=polling", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, tc := range []struct {
		flag             string
		allowed, refused []string
	}{
		{"", nil, []string{"https://evil.example", "null"}},
		{"https://chat.example", []string{"https://chat.example"}, []string{"https://evil.example", "null"}},
		{"*", []string{"https://evil.example", "null"}, nil},
	} {
		io := sockio.NewServer(sockio.Options{AllowedOrigins: originList(tc.flag), PingInterval: time.Hour})
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", io)
		hs := httptest.NewServer(mux)
		self := "http://" + strings.TrimPrefix(hs.URL, "http://")
		for _, o := range append(tc.allowed, "", self) {
			if code, body := handshake(hs, o); code != 200 || !strings.HasPrefix(body, "0{") {
				t.Errorf("--origins %q, Origin %q: %d %s", tc.flag, o, code, body)
			}
		}
		for _, o := range tc.refused {
			if code, body := handshake(hs, o); code != 403 || body != `{"code":4,"message":"Forbidden"}` {
				t.Errorf("--origins %q, Origin %q: %d %s", tc.flag, o, code, body)
			}
		}
		hs.Close()
		_ = io.Close(t.Context())
	}
}

// The plain-WebSocket chat follows the same list as Socket.IO: its own
// pages and non-browser clients by default, the listed sites with --origins.
func TestPlainChatFollowsOrigins(t *testing.T) {
	upgrade := func(hs *httptest.Server, origin string) int {
		req, _ := http.NewRequest("GET", hs.URL+"/ws", nil)
		for k, v := range map[string]string{
			"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
			"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
		} {
			req.Header.Set(k, v)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		flag             string
		allowed, refused []string
	}{
		{"", nil, []string{"https://evil.example", "null"}},
		{"https://chat.example", []string{"https://chat.example"}, []string{"https://evil.example"}},
	} {
		plain := chat.NewPlain(chat.Options{CheckOrigin: engineio.OriginChecker(originList(tc.flag))})
		mux := http.NewServeMux()
		mux.Handle("/ws", plain)
		hs := httptest.NewServer(mux)
		for _, o := range append(tc.allowed, "", hs.URL) {
			if code := upgrade(hs, o); code != http.StatusSwitchingProtocols {
				t.Errorf("--origins %q, Origin %q: %d, want 101", tc.flag, o, code)
			}
		}
		for _, o := range tc.refused {
			if code := upgrade(hs, o); code != http.StatusForbidden {
				t.Errorf("--origins %q, Origin %q: %d, want 403", tc.flag, o, code)
			}
		}
		_ = plain.Shutdown(t.Context())
		hs.Close()
	}
}

func TestPrefixList(t *testing.T) {
	got, err := prefixList(" 10.0.0.0/8, 192.168.1.7 ,,::1, 10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.1.0.0/16"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("prefixList: %v, want %v", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0/8"} {
		if _, err := prefixList(bad); err == nil {
			t.Errorf("prefixList(%q): no error", bad)
		}
	}
}
