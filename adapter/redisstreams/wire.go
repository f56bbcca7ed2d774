package redisstreams

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"unicode/utf16"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/internal/notepack"
)

// The wire of @socket.io/redis-streams-adapter 0.3, defined once here.

var errMalformed = errors.New("redisstreams: malformed message")

// streamFor names the stream of namespace nsp, as the reference's
// computeStreamName: JavaScript's 32-bit string hash, whose remainder keeps
// the sign (so "socket.io--1" is a possible name, as in Node.js).
func streamFor(o *Options, nsp string) string {
	if o.StreamCount == 1 {
		return o.StreamName
	}
	var h int32
	for _, c := range utf16.Encode([]rune(nsp)) {
		h = h*31 + int32(c)
	}
	return o.StreamName + "-" + strconv.Itoa(int(h)%o.StreamCount)
}

func publicChannel(o *Options, nsp string) string {
	return o.ChannelPrefix + "#" + nsp + "#"
}

func privateChannel(o *Options, nsp, uid string) string {
	return o.ChannelPrefix + "#" + nsp + "#" + uid + "#"
}

// isEphemeral says which messages the reference sends over Pub/Sub
// rather than the stream: nothing a reconnecting client needs. The
// heartbeats of the core (the reference 0.3 sends none) go there too, so
// that the stream holds only what recovery reads.
func isEphemeral(m *cluster.Message) bool {
	switch m.Type {
	case cluster.ServerSideEmit, cluster.FetchSockets,
		cluster.InitialHeartbeat, cluster.Heartbeat, cluster.AdapterClose:
		return true
	case cluster.Broadcast:
		return wire.Has(m.Data, "requestId")
	}
	return false
}

// mayContainBinary are the types whose data the reference checks for
// binary (and then writes as MessagePack rather than JSON).
func mayContainBinary(t cluster.MessageType) bool {
	switch t {
	case cluster.Broadcast, cluster.FetchSocketsResponse, cluster.ServerSideEmit,
		cluster.ServerSideEmitResponse, cluster.BroadcastAck:
		return true
	}
	return false
}

// truthy is JavaScript's truthiness, which decides whether the reference
// writes a data field at all.
func truthy(v any) bool {
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
		return x != 0 && x == x
	}
	return v != notepack.Undefined
}

// encodeEntry gives the fields of m's stream entry, in the reference's
// order: uid, nsp, type and, when m has data, data as JSON, or as
// base64 MessagePack when it holds binary.
func encodeEntry(m *cluster.Message, onlyPlaintext bool) ([]string, error) {
	f := []string{"uid", m.UID, "nsp", m.NSP, "type", strconv.Itoa(int(m.Type))}
	if !truthy(m.Data) {
		return f, nil
	}
	if !onlyPlaintext && mayContainBinary(m.Type) && notepack.HasBinary(m.Data) {
		b, err := notepack.Marshal(m.Data)
		if err != nil {
			return nil, fmt.Errorf("redisstreams: encoding data: %w", err)
		}
		return append(f, "data", base64.StdEncoding.EncodeToString(b)), nil
	}
	b, err := notepack.AppendStringify(nil, m.Data)
	if err != nil {
		return nil, fmt.Errorf("redisstreams: encoding data: %w", err)
	}
	return append(f, "data", string(b)), nil
}

// decodeEntry reads a stream entry. ok is false, with no error, for an
// entry without nsp, which the reference skips too.
func decodeEntry(values map[string]any) (m *cluster.Message, ok bool, err error) {
	nsp, _ := values["nsp"].(string)
	if nsp == "" {
		return nil, false, nil
	}
	uid, _ := values["uid"].(string)
	typ, _ := values["type"].(string)
	t, err := strconv.Atoi(typ)
	if uid == "" || err != nil || t < int(cluster.InitialHeartbeat) || t > int(cluster.AdapterClose) {
		return nil, true, fmt.Errorf("%w: entry uid %q type %q", errMalformed, uid, typ)
	}
	m = &cluster.Message{UID: uid, NSP: nsp, Type: cluster.MessageType(t)}
	raw, _ := values["data"].(string)
	if raw == "" {
		return m, true, nil
	}
	m.Data, err = decodeData(raw)
	if err != nil {
		return nil, true, err
	}
	return m, true, nil
}

// decodeData reads a data field as the reference does: JSON when it
// starts with '{', base64 MessagePack otherwise.
func decodeData(raw string) (any, error) {
	if raw[0] == '{' {
		v, err := notepack.ParseJSON([]byte(raw), nil)
		if err != nil {
			return nil, fmt.Errorf("%w: data: %w", errMalformed, err)
		}
		return v, nil
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: data: %w", errMalformed, err)
	}
	v, err := notepack.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: data: %w", errMalformed, err)
	}
	return v, nil
}

// encodePayload is a Pub/Sub message or response: the whole message as
// MessagePack, keys in the order the reference's ClusterAdapter sets them.
func encodePayload(m *cluster.Message) ([]byte, error) {
	mp := notepack.Map{{Key: "type", Value: int64(m.Type)}}
	if m.Data != nil && m.Data != notepack.Undefined {
		mp = append(mp, notepack.KV{Key: "data", Value: m.Data})
	}
	mp = append(mp, notepack.KV{Key: "uid", Value: m.UID}, notepack.KV{Key: "nsp", Value: m.NSP})
	b, err := notepack.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("redisstreams: encoding message: %w", err)
	}
	return b, nil
}

func decodePayload(b []byte) (*cluster.Message, error) {
	v, err := notepack.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	mp, ok := v.(notepack.Map)
	if !ok {
		return nil, fmt.Errorf("%w: not a map", errMalformed)
	}
	m := &cluster.Message{}
	uid, _ := mp.Get("uid")
	nsp, _ := mp.Get("nsp")
	typ, _ := mp.Get("type")
	m.UID, _ = uid.(string)
	m.NSP, _ = nsp.(string)
	t, ok := typ.(int64)
	if m.UID == "" || !ok || t < int64(cluster.InitialHeartbeat) || t > int64(cluster.AdapterClose) {
		return nil, fmt.Errorf("%w: uid %q type %v", errMalformed, m.UID, typ)
	}
	m.Type = cluster.MessageType(t)
	if d, ok := mp.Get("data"); ok && d != notepack.Undefined {
		m.Data = d
	}
	return m, nil
}

// Offsets are stream entry ids, "<ms>-<seq>"; the reference accepts no
// other form.
var offsetRE = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

type streamID struct{ ms, seq uint64 }

func parseID(s string) (streamID, bool) {
	if !offsetRE.MatchString(s) {
		return streamID{}, false
	}
	var id streamID
	var err1, err2 error
	for i := range len(s) {
		if s[i] == '-' {
			id.ms, err1 = strconv.ParseUint(s[:i], 10, 64)
			id.seq, err2 = strconv.ParseUint(s[i+1:], 10, 64)
			break
		}
	}
	return id, err1 == nil && err2 == nil
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || a.ms == b.ms && a.seq < b.seq
}

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}

// next is the smallest id after a: XRANGE's exclusive "(" start needs
// Redis 6.2, this works on any version, as in the reference.
func (a streamID) next() streamID {
	if a.seq == ^uint64(0) {
		return streamID{a.ms + 1, 0}
	}
	return streamID{a.ms, a.seq + 1}
}
