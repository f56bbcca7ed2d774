package wire

import (
	"fmt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
)

// Session writes s as the reference's persistSession does: the map
// {sid, pid, rooms, data}, in that order, with extra fields after (a
// broker's own, such as an expiry). data is s.Data already in wire form:
// each broker decides how (the Redis Streams one through JSON, as Node.js
// would see it). The framing (base64 for the Node.js format) is the
// broker's too.
func Session(s sockio.Session, data any, extra ...notepack.KV) notepack.Map {
	m := make(notepack.Map, 0, 4+len(extra))
	m = append(m,
		notepack.KV{Key: "sid", Value: s.SID},
		notepack.KV{Key: "pid", Value: s.PID},
		notepack.KV{Key: "rooms", Value: StringsOrEmpty(s.Rooms)},
		notepack.KV{Key: "data", Value: data},
	)
	return append(m, extra...)
}

// ReadSession reads a decoded session map as Session writes it (and as a
// Node.js peer does): sid and pid must be non-empty strings, rooms keeps
// its strings, data comes back as Plain gives it. The map is returned for
// the broker's own extra fields.
func ReadSession(v any) (*sockio.Session, notepack.Map, error) {
	m, ok := v.(notepack.Map)
	if !ok {
		return nil, nil, fmt.Errorf("%w: session is %T, not a map", ErrMalformed, v)
	}
	s := &sockio.Session{}
	s.SID, _ = Field(m, "sid").(string)
	s.PID, _ = Field(m, "pid").(string)
	if s.SID == "" || s.PID == "" {
		return nil, nil, fmt.Errorf("%w: session without sid or pid", ErrMalformed)
	}
	list, _ := Field(m, "rooms").([]any)
	for _, r := range list {
		if r, ok := r.(string); ok {
			s.Rooms = append(s.Rooms, r)
		}
	}
	s.Data = Plain(Field(m, "data"))
	return s, m, nil
}
