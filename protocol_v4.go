package sockio

import (
	"encoding/json"
	"math"
	"net/url"
	"strings"

	"github.com/sockio/sockio/parser"
)

// Socket.IO protocol 4, spoken by socket.io-client 2.x over Engine.IO 3
// (Options.AllowEIO3). Its packets are written as protocol 5's; the
// reference (socket.io 4.8 with allowEIO3) treats such a client this way:
//
//   - The server connects it to "/" on its own, with an empty auth, and
//     sends the CONNECT packet without a payload ("40"); the client sends
//     no CONNECT for "/".
//   - A CONNECT to another namespace may carry a query after the name
//     ("40/admin?token=abc,"): it is the socket's auth (querystring values:
//     a string, or a list for a repeated key); any payload is ignored. The
//     answer has no payload either ("40/admin,").
//   - A namespace name is read as a URL path: a query (or fragment) after it
//     is dropped from every packet's namespace.
//   - Socket ids are the Engine.IO session id on "/" and "<nsp>#<sid>"
//     elsewhere: the client computes them that way itself.
//   - A middleware's refusal is sent as its ConnectError Data, or, without
//     Data, its message as a JSON string: `44{"reason":"bad token"}`,
//     `44/admin,"forbidden"`. "Invalid namespace" is sent as to any client.
//
// Events, acks and binary attachments are encoded as for protocol 5, so a
// broadcast reaching both kinds of client is encoded once; each session
// frames it in its own Engine.IO protocol when it writes.

// connectRootV3 connects a protocol 4 client to "/", as the reference does
// when its Engine.IO connection opens.
func (c *Client) connectRootV3() {
	if !c.v3 {
		return
	}
	c.enqueue(task{p: &parser.Packet{Type: parser.Connect, Namespace: "/"}}, false)
}

// fromV4 rewrites a packet of a protocol 4 client into protocol 5's form:
// the namespace without its query, and for CONNECT the query as the auth
// payload.
func fromV4(p *parser.Packet) {
	name, query, hasQuery := splitNamespaceV4(p.Namespace)
	p.Namespace = name
	if p.Type != parser.Connect {
		return
	}
	p.Data = nil
	if hasQuery {
		p.Data, _ = json.Marshal(queryAuth(query))
	}
}

// splitNamespaceV4 splits a namespace as the reference's url.parse does:
// the path, then the query after '?' (up to a '#').
func splitNamespaceV4(nsp string) (name, query string, hasQuery bool) {
	if i := strings.IndexAny(nsp, "?#"); i >= 0 {
		name, rest := nsp[:i], nsp[i:]
		if rest[0] == '?' {
			query, _, _ = strings.Cut(rest[1:], "#")
			hasQuery = true
		}
		if name == "" {
			name = "/"
		}
		return name, query, hasQuery
	}
	return nsp, "", false
}

// queryAuth is a namespace query as the reference's querystring.parse
// gives it: each value a string, or a list of strings for a repeated key.
func queryAuth(query string) map[string]any {
	vals, _ := url.ParseQuery(query) // the valid pairs
	auth := make(map[string]any, len(vals))
	for k, v := range vals {
		if len(v) == 1 {
			auth[k] = v[0]
			continue
		}
		list := make([]any, len(v))
		for i, x := range v {
			list[i] = x
		}
		auth[k] = list
	}
	return auth
}

// socketIDV4 is the id of a protocol 4 client's socket on nsp.
func socketIDV4(nsp, sid string) string {
	if nsp == "/" {
		return sid
	}
	return nsp + "#" + sid
}

// connectErrorV4 refuses a protocol 4 client's socket as the reference
// does after a middleware error: the error's data, or its message.
func (c *Client) connectErrorV4(nsp string, err error) {
	ce, ok := err.(*ConnectError)
	if !ok {
		ce = &ConnectError{Message: err.Error()}
	}
	var data []byte
	if jsTruthy(ce.Data) {
		data, _ = json.Marshal(ce.Data)
	}
	if data == nil {
		data, _ = json.Marshal(ce.Message)
	}
	_ = c.write(c.server.encode(&parser.Packet{Type: parser.ConnectError, Namespace: nsp, Data: data}), &BroadcastFlags{})
}

// jsTruthy reports whether v, as JSON, would be truthy in JavaScript: the
// reference sends `err.data || err.message`.
func jsTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0 && !math.IsNaN(x)
	case json.RawMessage:
		s := strings.TrimSpace(string(x))
		return s != "" && s != "null" && s != "false" && s != "0" && s != `""`
	}
	return true
}
