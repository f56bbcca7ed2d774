package chat

import "github.com/sockio/sockio"

// identity is what a client sent to name itself: its auth {name, clientId,
// room, reconnect}. A Socket.IO v2 client (socket.io-client 2.x, served
// with sockio.Options.AllowEIO3) cannot send auth on "/": it is connected
// there by the server, so it gives the same fields in its handshake's
// query instead (?name=ann&room=lobby&clientId=...&reconnect=true). Without
// a name it gets a guest one, as any client.
func identity(s *sockio.Socket) map[string]any {
	if s.Client().Conn().Protocol() != 3 {
		return s.Handshake().Auth
	}
	q := s.Handshake().Query
	auth := map[string]any{}
	for _, k := range []string{"name", "clientId", "room"} {
		if v := q.Get(k); v != "" {
			auth[k] = v
		}
	}
	if r := q.Get("reconnect"); r == "true" || r == "1" {
		auth["reconnect"] = true
	}
	return auth
}
