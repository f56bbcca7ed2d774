package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sockio/sockio"
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
