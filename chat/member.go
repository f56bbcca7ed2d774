package chat

import "encoding/json"

// member is a socket's chat identity, kept in its Data. A member is
// replaced, never changed, so readers on other goroutines (FetchSockets)
// always see a consistent value.
type member struct {
	Name     string `json:"name"`
	ClientID string `json:"clientId"`
	Room     string `json:"room"`
}

// memberOf reads a socket's Data: a *member on this node, or the decoded
// form a cluster adapter brings from another node. nil for a socket that
// has no chat identity yet.
func memberOf(data any) *member {
	switch d := data.(type) {
	case nil:
		return nil
	case *member:
		return d
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil
	}
	var m member
	if json.Unmarshal(b, &m) != nil || m.Name == "" {
		return nil
	}
	return &m
}

// User is one entry of a room's online list.
type User struct {
	Name string `json:"name"`
}

// RoomInfo is one entry of the room list.
type RoomInfo struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}
