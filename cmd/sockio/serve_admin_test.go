package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
)

func TestServeAdminFlags(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ui := t.TempDir()
	if err := os.WriteFile(filepath.Join(ui, "index.html"), []byte("<html>ui</html>"), 0o644); err != nil {
		t.Fatal(err)
	}

	cfg, err := parseServe([]string{"--admin", "ops:" + string(h), "--admin-read-only", "--admin-stats-only", "--admin-ui", ui}, io.Discard)
	if err != nil {
		t.Fatalf("good flags refused: %v", err)
	}
	if cfg.admin.user != "ops" || cfg.admin.hash != string(h) || !cfg.admin.readOnly || !cfg.admin.statsOnly || cfg.admin.uiDir != ui {
		t.Fatalf("parsed %+v", cfg.admin)
	}

	t.Setenv("SOCKIO_ADMIN", "env:"+string(h))
	cfg, err = parseServe(nil, io.Discard)
	if err != nil || cfg.admin.user != "env" {
		t.Fatalf("$SOCKIO_ADMIN: %+v, %v", cfg.admin, err)
	}
	t.Setenv("SOCKIO_ADMIN", "")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--admin", "ops"}, "--admin: want USER:BCRYPTHASH"},
		{[]string{"--admin", "ops:plaintext"}, "must be a bcrypt hash"},
		{[]string{"--admin", ":" + string(h)}, "want USER:BCRYPTHASH"},
		{[]string{"--admin-read-only"}, "--admin-read-only needs --admin"},
		{[]string{"--admin-ui", ui}, "--admin-ui needs --admin"},
		{[]string{"--admin-stats-only"}, "--admin-stats-only needs --admin"},
		{[]string{"--admin", "ops:" + string(h), "--admin-ui", t.TempDir()}, "no index.html"},
	} {
		_, err := parseServe(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error with %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "plaintext") {
			t.Errorf("%v: the error repeats the password: %v", tc.args, err)
		}
	}
}

func TestServeAdminMounts(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ui := t.TempDir()
	if err := os.WriteFile(filepath.Join(ui, "index.html"), []byte("<html>the ui</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ui, "js"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := sockio.NewServer(sockio.Options{})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	stop, err := startAdmin(adminConfig{user: "ops", hash: string(h), uiDir: ui}, srv, mux)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(mux)
	defer func() {
		stop()
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	}()

	get := func(path string) (int, string) {
		res, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := readAll(res.Body)
		return res.StatusCode, b
	}
	if code, body := get("/admin/ui/"); code != 200 || !strings.Contains(body, "the ui") {
		t.Fatalf("/admin/ui/: %d %q", code, body)
	}
	if code, _ := get("/admin/ui/js/"); code != http.StatusNotFound {
		t.Fatalf("/admin/ui/js/ listed: %d", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, hs.URL+"/admin", client.Options{DisableReconnection: true,
		Auth: map[string]any{"username": "ops", "password": "pw"}})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	_ = s.Close()
	_, err = client.Connect(ctx, hs.URL+"/admin", client.Options{DisableReconnection: true,
		Auth: map[string]any{"username": "ops", "password": "nope"}})
	if err == nil {
		t.Fatal("a wrong password logged in")
	}
}

func readAll(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}
