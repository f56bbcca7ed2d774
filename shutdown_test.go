package sockio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
)

// TestShutdownHandsClientsOff: after Shutdown the node takes no new
// session and its clients were told to go elsewhere in a way that makes
// them reconnect (a transport close, not "io server disconnect").
func TestShutdownHandsClientsOff(t *testing.T) {
	srv := sockio.NewServer(sockio.Options{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reasons := make(chan string, 2)
	c, err := client.Connect(ctx, hs.URL, client.Options{Transports: []string{client.WebSocket}, ReconnectionDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.On("disconnect", func(reason string) { reasons <- reason })
	if srv.Draining() {
		t.Fatal("draining before Shutdown")
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if !srv.Draining() {
		t.Fatal("not draining after Shutdown")
	}
	select {
	case r := <-reasons:
		if r == "io server disconnect" {
			t.Fatalf("disconnect reason %q: the client would not reconnect", r)
		}
	case <-ctx.Done():
		t.Fatal("client not disconnected")
	}
	res, err := http.Get(hs.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("handshake after Shutdown: %d, want 503", res.StatusCode)
	}
}
