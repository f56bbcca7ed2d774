package sockio

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// A handler mounted on an http.Server without header or idle limits says
// so, once per process; one served by sockio's defaults says nothing.
func TestWarnsOnceAboutAnUnsafeServer(t *testing.T) {
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(old)

	checkedHTTP = sync.Once{} // another test's server may have used it
	get := func(hs *httptest.Server) {
		res, err := http.Get(hs.URL + "/socket.io/?EIO=4&transport=polling")
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
	}

	bare := NewServer(Options{})
	defer bare.Close(t.Context())
	hs := httptest.NewServer(bare) // httptest's http.Server sets no limits
	defer hs.Close()
	get(hs)
	get(hs)
	if n := strings.Count(logs.String(), "ReadHeaderTimeout or IdleTimeout"); n != 1 {
		t.Fatalf("warnings for a bare server: %d, want 1:\n%s", n, logs.String())
	}

	logs.Reset()
	checkedHTTP = sync.Once{}
	safe := NewServer(Options{})
	defer safe.Close(t.Context())
	hs2 := httptest.NewUnstartedServer(safe)
	hs2.Config.ReadHeaderTimeout = DefaultReadHeaderTimeout
	hs2.Config.IdleTimeout = DefaultIdleTimeout
	hs2.Start()
	defer hs2.Close()
	get(hs2)
	if logs.Len() != 0 {
		t.Fatalf("a server with limits was warned about:\n%s", logs.String())
	}
}
