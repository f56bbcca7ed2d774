package engineio_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/engineio/packet"
)

// echo sends every message back on its session.
type echo struct{ s *engineio.Session }

func (e echo) OnMessage(data []byte, binary bool) {
	_ = e.s.Send(engineio.SendOptions{}, packet.Packet{Type: packet.Message, Data: append([]byte(nil), data...), Binary: binary})
}
func (e echo) OnClose(reason string, err error) {}

// An Engine.IO echo server, driven here over long-polling by hand.
func ExampleServer() {
	srv := engineio.NewServer(engineio.Options{})
	srv.OnConnection(func(s *engineio.Session) { s.SetHandler(echo{s}) })
	hs := httptest.NewServer(srv)
	defer hs.Close()

	get := func(q string) string {
		res, err := http.Get(hs.URL + "/?EIO=4&transport=polling" + q)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	open := get("")
	sid := open[strings.Index(open, `"sid":"`)+7:][:20]
	res, err := http.Post(hs.URL+"/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("4hello\x1e4world"))
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Printf("%q\n", get("&sid="+sid))
	// Output: "4hello\x1e4world"
}
