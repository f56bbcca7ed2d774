package client_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/client"
)

// The Go client's typed handlers get binary parts as []byte in any fields,
// nested structs, maps of any and slices of any, as the server's do.
func TestClientTypedHandlerBinaryInAny(t *testing.T) {
	type inner struct{ Blob any }
	type msg struct {
		Data   any            `json:"data"`
		Nested inner          `json:"nested"`
		Meta   map[string]any `json:"meta"`
		List   []any          `json:"list"`
	}
	blob := []byte{7, 8}
	srv := newSockioServer(t, func(io *sockio.Server) {
		io.OnConnection(func(s *sockio.Socket) {
			_ = s.Emit("bin", map[string]any{
				"data": blob, "nested": map[string]any{"Blob": blob},
				"meta": map[string]any{"b": blob}, "list": []any{1, blob},
			})
		})
	})
	got := make(chan msg, 1)
	ctx := timeout(t, 10*time.Second)
	s, err := client.New(srv.URL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.On("bin", func(m msg) { got <- m })
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var m msg
	select {
	case m = <-got:
	case <-ctx.Done():
		t.Fatal("no event")
	}
	for what, v := range map[string]any{"Data": m.Data, "Nested.Blob": m.Nested.Blob, "Meta[b]": m.Meta["b"], "List[1]": m.List[1]} {
		if b, ok := v.([]byte); !ok || !bytes.Equal(b, blob) {
			t.Errorf("%s = %#v, want []byte", what, v)
		}
	}
}
