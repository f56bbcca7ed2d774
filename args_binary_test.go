package sockio

import (
	"bytes"
	"testing"

	"github.com/gorilla/websocket"
)

// A typed handler gets binary parts as []byte in any fields, nested
// structs, maps of any and slices of any, as Args.Decode documents.
func TestTypedHandlerBinaryInAny(t *testing.T) {
	type inner struct{ Blob any }
	type msg struct {
		Data   any            `json:"data"`
		Nested inner          `json:"nested"`
		Meta   map[string]any `json:"meta"`
		List   []any          `json:"list"`
	}
	got := make(chan msg, 1)
	io, hs := newTestServer(t, Options{})
	io.OnConnection(func(s *Socket) {
		s.On("bin", func(m msg) { got <- m })
	})
	c := dial(t, hs)
	c.connect("/")
	c.send(`451-["bin",{"data":{"_placeholder":true,"num":0},"nested":{"Blob":{"_placeholder":true,"num":0}},"meta":{"b":{"_placeholder":true,"num":0}},"list":[1,{"_placeholder":true,"num":0}]}]`)
	if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte{7, 8}); err != nil {
		t.Fatal(err)
	}
	m := <-got
	want := []byte{7, 8}
	for what, v := range map[string]any{"Data": m.Data, "Nested.Blob": m.Nested.Blob, "Meta[b]": m.Meta["b"], "List[1]": m.List[1]} {
		if b, ok := v.([]byte); !ok || !bytes.Equal(b, want) {
			t.Errorf("%s = %#v, want []byte", what, v)
		}
	}
}
