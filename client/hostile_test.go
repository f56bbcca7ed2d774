package client_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sockio/sockio/client"
)

// A hostile or broken server: bad input gives a clear error or a
// disconnection with the reference's reason, never a panic or a leak.
// These servers are written by hand because no real server sends such
// things; every other test talks to real servers.

const openPacket = `0{"sid":"raw","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`

func TestBadHandshake(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string
	}{
		{"not engine.io", "hello", "unknown packet type"},
		{"empty", "", "empty packet"},
		{"first packet not open", "4hello", "first packet is message"},
		{"bad json", "0{bad", "failed to decode the open packet"},
		{"no ping interval", `0{"sid":"x","pingTimeout":1}`, "bad handshake"},
		{"too large", strings.Repeat("4", 2000), "exceeds MaxMessageSize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			leaks := leakCheck(t)
			_, err := client.Connect(timeout(t, 10*time.Second), srv.URL, client.Options{
				Transports: []string{"polling"}, DisableReconnection: true, MaxMessageSize: 1024,
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one about %q", err, tc.want)
			}
			srv.CloseClientConnections()
			leaks()
		})
	}
}

// rawServer accepts WebSocket Engine.IO connections, answers the open and
// the CONNECT to "/", then runs script.
func rawServer(t *testing.T, script func(ws *websocket.Conn)) *httptest.Server {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if ws.WriteMessage(websocket.TextMessage, []byte(openPacket)) != nil {
			return
		}
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "40" {
			return
		}
		script(ws)
		// Drain until the client leaves.
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(ws *websocket.Conn, frames ...string) {
	for _, f := range frames {
		typ := websocket.TextMessage
		if strings.HasPrefix(f, "bin:") {
			typ, f = websocket.BinaryMessage, f[4:]
		}
		_ = ws.WriteMessage(typ, []byte(f))
	}
}

func TestHostileServer(t *testing.T) {
	connected := `40{"sid":"s1"}`
	for _, tc := range []struct {
		name   string
		frames []string
		want   string // what the socket records
	}{
		{"unknown engine.io type", []string{connected, "9oops"}, "disconnect:transport error"},
		{"unknown socket.io type", []string{connected, "49"}, "disconnect:parse error"},
		{"reserved event name", []string{connected, `42["disconnect"]`}, "disconnect:parse error"},
		{"event that is no array", []string{connected, `42{"a":1}`}, "disconnect:parse error"},
		{"too many attachments", []string{connected, `4511-["x"]`}, "disconnect:parse error"},
		{"binary out of turn", []string{connected, "bin:abc"}, "disconnect:parse error"},
		{"bad placeholder", []string{connected, `451-["x",{"_placeholder":true,"num":5}]`}, "disconnect:parse error"},
		{"too large", []string{connected, "42" + strings.Repeat(" ", 2000)}, "disconnect:transport error"},
		{"close packet", []string{connected, "1"}, "disconnect:transport close"},
		{"connect without sid", []string{`40{}`}, "connect_error:client: CONNECT answer without a sid (a Socket.IO v2 server? it is not compatible)"},
		{"connect error as a string", []string{`44"nope"`}, "connect_error:connect error: nope"},
		{"ack for nothing", []string{connected, `43999[]`, `42["ok"]`}, "ok"},
		{"event for another namespace", []string{connected, `42/other,["x"]`, `42["ok"]`}, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := rawServer(t, func(ws *websocket.Conn) { send(ws, tc.frames...) })
			leaks := leakCheck(t)
			rec := newRecorder()
			s, err := client.New(srv.URL, client.Options{
				Transports: []string{"websocket"}, DisableReconnection: true, MaxMessageSize: 1024,
			})
			if err != nil {
				t.Fatal(err)
			}
			s.On("disconnect", func(reason string) { rec.add("disconnect:%s", reason) })
			s.On("connect_error", func(err error) { rec.add("connect_error:%v", err) })
			s.On("ok", func() { rec.add("ok") })
			_ = s.Open()
			rec.waitFor(t, 5*time.Second, tc.want)
			_ = s.Close()
			srv.CloseClientConnections()
			leaks()
		})
	}
}

// TestPongs checks the client's half of the heartbeat on the wire.
func TestPongs(t *testing.T) {
	got := make(chan string, 10)
	srv := rawServer(t, func(ws *websocket.Conn) {
		send(ws, `40{"sid":"s1"}`, "2")
		_, msg, _ := ws.ReadMessage()
		got <- string(msg)
	})
	s, err := client.Connect(timeout(t, 10*time.Second), srv.URL, client.Options{Transports: []string{"websocket"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case msg := <-got:
		if msg != "3" {
			t.Errorf("answer to a ping: %q, want \"3\"", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
}
