package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(h http.Handler, method, path string, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestClientBuilds(t *testing.T) {
	classic := serve(Client(), "GET", "/socket.io/socket.io.js", nil)
	if classic.Code != 200 || !strings.Contains(classic.Body.String(), ".io = io;") {
		t.Fatalf("classic build: %d", classic.Code)
	}
	if strings.Contains(classic.Body.String(), "\nexport ") {
		t.Fatal("classic build has an export statement")
	}
	esm := serve(Client(), "GET", "/socket.io/socket.io.esm.js", nil)
	if !strings.HasSuffix(esm.Body.String(), "export default io;\n") {
		t.Fatal("ES module build lacks its exports")
	}
	if c := serve(Client(), "GET", "/socket.io/other.js", nil).Code; c != 404 {
		t.Fatalf("unknown file: %d", c)
	}
}

func TestAssetCaching(t *testing.T) {
	h := Client()
	gz := serve(h, "GET", "/socket.io/socket.io.js", map[string]string{"Accept-Encoding": "gzip"})
	if gz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatal("not gzipped")
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	plain := serve(h, "GET", "/socket.io/socket.io.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if plain.Header().Get("Content-Encoding") != "" || !bytes.Equal(body, plain.Body.Bytes()) {
		t.Fatal("gzip;q=0 not honoured, or the two forms differ")
	}
	for _, tag := range []string{plain.Header().Get("ETag"), gz.Header().Get("ETag"), "W/" + plain.Header().Get("ETag")} {
		if c := serve(h, "GET", "/socket.io/socket.io.js", map[string]string{"If-None-Match": tag}).Code; c != 304 {
			t.Errorf("If-None-Match %s: %d, want 304", tag, c)
		}
	}
	if c := serve(h, "GET", "/socket.io/socket.io.js", map[string]string{"If-None-Match": `"old"`}).Code; c != 200 {
		t.Errorf("stale ETag: %d", c)
	}
	if c := serve(h, "DELETE", "/socket.io/socket.io.js", nil).Code; c != 405 {
		t.Errorf("DELETE: %d", c)
	}
}

func TestPages(t *testing.T) {
	home := serve(Pages(), "GET", "/", nil)
	if home.Code != 200 || home.Header().Get("Content-Security-Policy") == "" {
		t.Fatalf("home: %d, CSP %q", home.Code, home.Header().Get("Content-Security-Policy"))
	}
	if c := serve(Pages(), "GET", "/static/chat.js", nil).Code; c != 404 {
		t.Errorf("/static/chat.js: %d, want 404 (files live at the root)", c)
	}
	if ct := serve(Pages(), "GET", "/chat.js", nil).Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("chat.js type %q", ct)
	}
}
