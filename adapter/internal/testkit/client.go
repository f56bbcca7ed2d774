package testkit

import (
	"testing"

	"github.com/gorilla/websocket"

	"github.com/sockio/sockio/sockiotest"
)

// Client is a sockiotest.Client with the names the adapters' tests use:
// its Name, and its socket's SID and PID from the connect answer.
type Client struct {
	*sockiotest.Client
	Name     string
	SID, PID string
}

// Event is an event a Client got.
type Event = sockiotest.Event

// DisconnectEvent is the Event a Client gets when the server disconnects
// its socket.
const DisconnectEvent = sockiotest.DisconnectEvent

// Dial connects a client named name to namespace nsp of the server at
// baseURL (http://...); auth adds to its handshake's {"name": name} (pid
// and offset recover a session), and the name is also in the query and an
// X-Client-Name header. It acknowledges with what ackWith returns, and is
// closed when the test ends.
func Dial(t testing.TB, baseURL, name, nsp string, auth map[string]string, ackWith func(Event) []any) *Client {
	t.Helper()
	a := map[string]any{"name": name}
	for k, v := range auth {
		a[k] = v
	}
	c := sockiotest.ConnectWith(t, baseURL, sockiotest.ClientOptions{
		Namespace: nsp, Auth: a, Name: name, AckWith: ackWith,
		Conn: sockiotest.ConnOptions{Query: map[string][]string{"name": {name}}, Header: map[string][]string{"X-Client-Name": {name}}},
	})
	return &Client{Client: c, Name: name, SID: c.ID(), PID: c.PID()}
}

// Write sends a websocket message as is (websocket.TextMessage or
// BinaryMessage).
func (c *Client) Write(typ int, b []byte) {
	if typ == websocket.BinaryMessage {
		c.Conn().SendBinary(b)
		return
	}
	c.Conn().Send(string(b))
}
