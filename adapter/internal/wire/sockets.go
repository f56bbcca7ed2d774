package wire

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
)

// jsDateLayout is how a JavaScript Date prints (new Date().toString()),
// the form of a Node.js socket's handshake.time; we print UTC.
const jsDateLayout = "Mon Jan 02 2006 15:04:05 GMT-0700"

// Socket describes a local socket as the reference's fetchSockets
// response does: {id, handshake, rooms, data}.
func Socket(rs *sockio.RemoteSocket) notepack.Map {
	var data any
	if rs.Data != nil {
		if v, err := Value(rs.Data); err == nil {
			data = v
		}
	}
	return notepack.Map{
		{Key: "id", Value: rs.ID},
		{Key: "handshake", Value: Handshake(rs.Handshake)},
		{Key: "rooms", Value: StringsOrEmpty(rs.Rooms)},
		{Key: "data", Value: data},
	}
}

// Handshake writes a handshake as a Node.js socket's.
func Handshake(hs *sockio.Handshake) notepack.Map {
	if hs == nil {
		return notepack.Map{}
	}
	headers := make(notepack.Map, 0, len(hs.Headers))
	for k, vs := range hs.Headers {
		headers = append(headers, notepack.KV{Key: strings.ToLower(k), Value: strings.Join(vs, ", ")})
	}
	query := make(notepack.Map, 0, len(hs.Query))
	for k, vs := range hs.Query {
		if len(vs) == 1 {
			query = append(query, notepack.KV{Key: k, Value: vs[0]})
		} else {
			query = append(query, notepack.KV{Key: k, Value: vs})
		}
	}
	var auth any = notepack.Map{}
	if hs.Auth != nil {
		if v, err := Value(hs.Auth); err == nil {
			auth = v
		}
	}
	t := hs.Time.UTC()
	return notepack.Map{
		{Key: "headers", Value: headers},
		{Key: "time", Value: t.Format(jsDateLayout) + " (Coordinated Universal Time)"},
		{Key: "address", Value: hs.Address},
		{Key: "xdomain", Value: hs.XDomain},
		{Key: "secure", Value: hs.Secure},
		{Key: "issued", Value: t.UnixMilli()},
		{Key: "url", Value: hs.URL},
		{Key: "query", Value: query},
		{Key: "auth", Value: auth},
	}
}

// RemoteSocket reads a socket of a fetchSockets response; nil if it has
// no id.
func RemoteSocket(nsp *sockio.Namespace, v any) *sockio.RemoteSocket {
	id, ok := String(Field(v, "id"))
	if !ok {
		return nil
	}
	return sockio.NewRemoteSocket(nsp, id, ReadHandshake(Field(v, "handshake")), Rooms(Field(v, "rooms")), Plain(Field(v, "data")))
}

// ReadHandshake reads a handshake written by Handshake or by Node.js.
func ReadHandshake(v any) *sockio.Handshake {
	hs := &sockio.Handshake{Headers: http.Header{}, Query: url.Values{}, Auth: map[string]any{}}
	for _, kv := range Entries(Field(v, "headers")) {
		key := http.CanonicalHeaderKey(kv.Key)
		switch x := kv.Value.(type) {
		case string:
			hs.Headers[key] = append(hs.Headers[key], x)
		case []any:
			for _, el := range x {
				if s, ok := el.(string); ok {
					hs.Headers[key] = append(hs.Headers[key], s)
				}
			}
		}
	}
	if ms, ok := Number(Field(v, "issued")); ok {
		hs.Time = time.UnixMilli(int64(ms))
	} else if s, ok := String(Field(v, "time")); ok && len(s) >= len(jsDateLayout) {
		hs.Time, _ = time.Parse(jsDateLayout, s[:len(jsDateLayout)])
	}
	hs.Address, _ = String(Field(v, "address"))
	hs.XDomain = Field(v, "xdomain") == true
	hs.Secure = Field(v, "secure") == true
	hs.URL, _ = String(Field(v, "url"))
	for _, kv := range Entries(Field(v, "query")) {
		switch x := kv.Value.(type) {
		case string:
			hs.Query.Add(kv.Key, x)
		case []any:
			for _, el := range x {
				if s, ok := el.(string); ok {
					hs.Query.Add(kv.Key, s)
				}
			}
		}
	}
	if auth, ok := Plain(Field(v, "auth")).(map[string]any); ok {
		hs.Auth = auth
	}
	return hs
}
