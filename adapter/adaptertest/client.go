package adaptertest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockio/sockio/sockiotest"
)

// client is a sockiotest.Client whose waits take the next event of a
// name, whatever else arrives (the suite's sync probes, say). A raw
// client rather than package client: a scenario must see every packet
// once, as sent, and choose when and where it reconnects.
type client struct {
	*sockiotest.Client
	name  string
	noAck atomic.Bool // true: never acknowledge
}

// event is what a client received; with recovery on, the offset is out
// of Args, in Offset.
type event = sockiotest.Event

// disconnected is the name of the server's DISCONNECT packets.
const disconnected = sockiotest.DisconnectEvent

// eventTimeout bounds every wait for something that must arrive.
const eventTimeout = 10 * time.Second

// dial connects a client named name to "/" of the server at baseURL (the
// name in its auth, query and an X-Client-Name header). It acknowledges
// every event that asks with its name, until noAck is set.
func dial(t testing.TB, baseURL, name string, recover bool) *client {
	t.Helper()
	c := &client{name: name}
	c.Client = sockiotest.ConnectWith(t, baseURL, sockiotest.ClientOptions{
		Name: name, Auth: map[string]any{"name": name}, Offsets: recover,
		Conn: sockiotest.ConnOptions{Timeout: eventTimeout,
			Query: map[string][]string{"name": {name}}, Header: map[string][]string{"X-Client-Name": {name}}},
		AckWith: func(sockiotest.Event) []any {
			if c.noAck.Load() {
				return nil
			}
			return []any{name}
		},
	})
	return c
}

// drop closes the connection without a DISCONNECT, as a lost network
// would (the server sees "transport close").
func (c *client) drop() { c.Close() }

// reconnect connects again to baseURL asking to recover the session.
func (c *client) reconnect(baseURL string) error { return c.Reconnect(baseURL) }

// emit sends an event to the server.
func (c *client) emit(name string, args ...any) { c.Emit(name, args...) }

// next takes the oldest event named name, waiting up to timeout.
func (c *client) next(name string, timeout time.Duration) (event, error) {
	return c.NextNamed(name, timeout)
}

// expect waits for the oldest event named name.
func (c *client) expect(name string) event { return c.Await(name) }

// pending returns how many events named name wait unread.
func (c *client) pending(name string) int { return c.Pending(name) }
