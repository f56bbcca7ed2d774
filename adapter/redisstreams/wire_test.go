package redisstreams

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/sockio/sockio/adapter/cluster"
)

// vectors are written by the real @socket.io/redis-streams-adapter
// (test/cluster/gen-redis-streams-vectors.mjs).
type vectors struct {
	Entries map[string]struct {
		ID     string
		Fields []string
	}
	Payloads map[string]string
	Sessions map[string]struct {
		Session struct {
			SID   string
			PID   string
			Rooms []string
			Data  json.RawMessage
		}
		Raw string
	}
}

func loadVectors(t *testing.T) *vectors {
	b, err := os.ReadFile("testdata/node-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func fieldMap(f []string) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(f); i += 2 {
		m[f[i]] = f[i+1]
	}
	return m
}

// TestEntriesMatchNode: every stream entry Node.js wrote decodes, and
// encodes back to the same fields, in the same order, byte for byte (JSON
// as JSON.stringify writes it, binary data as the same base64 MessagePack).
func TestEntriesMatchNode(t *testing.T) {
	for name, e := range loadVectors(t).Entries {
		t.Run(name, func(t *testing.T) {
			m, ok, err := decodeEntry(fieldMap(e.Fields))
			if !ok || err != nil {
				t.Fatalf("decode: ok %v, %v", ok, err)
			}
			got, err := encodeEntry(m, false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e.Fields) {
				t.Errorf("encoded\n%q\nNode.js wrote\n%q", got, e.Fields)
			}
		})
	}
}

// TestPayloadsMatchNode: the same for the Pub/Sub messages, which
// Node.js writes with @msgpack/msgpack.
func TestPayloadsMatchNode(t *testing.T) {
	for name, h := range loadVectors(t).Payloads {
		t.Run(name, func(t *testing.T) {
			b, _ := hex.DecodeString(h)
			m, err := decodePayload(b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodePayload(m)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != h {
				t.Errorf("encoded\n%x\nNode.js wrote\n%s", got, h)
			}
			if name == "broadcast with ack" && !isEphemeral(m) {
				t.Error("a broadcast with an ack must go over Pub/Sub, as in Node.js")
			}
		})
	}
}

// TestSessionsMatchNode: a session Node.js persisted decodes to the same
// values, and ours encodes to the same bytes.
func TestSessionsMatchNode(t *testing.T) {
	for name, v := range loadVectors(t).Sessions {
		t.Run(name, func(t *testing.T) {
			s, err := decodeSession(v.Raw)
			if err != nil {
				t.Fatal(err)
			}
			var data any
			_ = json.Unmarshal(v.Session.Data, &data)
			if s.SID != v.Session.SID || s.PID != v.Session.PID ||
				!reflect.DeepEqual(s.Rooms, v.Session.Rooms) || !reflect.DeepEqual(s.Data, data) {
				t.Errorf("decoded %+v, want %+v", s, v.Session)
			}
			// Data as the app would give it in order (a map's keys would be
			// sorted, which Node.js reads the same but writes otherwise).
			s.Data = v.Session.Data
			got, err := encodeSession(*s)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Raw {
				t.Errorf("encoded %s, Node.js wrote %s", got, v.Raw)
			}
		})
	}
}

// TestStreamFor: namespaces spread over streams as the reference's
// hashCode (a JavaScript int32, remainder keeping the sign) spreads them.
func TestStreamFor(t *testing.T) {
	o := Options{StreamName: "s", StreamCount: 1}
	if got := streamFor(&o, "/x"); got != "s" {
		t.Errorf("one stream: %q", got)
	}
	o.StreamCount = 3
	// hashCode("/") = 47, "/chat" 46457863, "/é😀" 3396989 (UTF-16 units); a long
	// name overflows int32 to a negative hash.
	for nsp, want := range map[string]string{"/": "s-2", "/chat": "s-1", "/a-much-longer-namespace": "s--2", "/é😀": "s-2"} {
		if got := streamFor(&o, nsp); got != want {
			t.Errorf("%q: %q, want %q", nsp, got, want)
		}
	}
}

func TestParseID(t *testing.T) {
	for _, s := range []string{"", "1", "1-", "-1", "a-1", "1-1-1", " 1-1", "99999999999999999999-0"} {
		if _, ok := parseID(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
	id, ok := parseID("1700000000000-18446744073709551615")
	if !ok || id.next().String() != "1700000000001-0" {
		t.Errorf("next of max seq: %v %v", id.next(), ok)
	}
}

func TestEphemeral(t *testing.T) {
	for typ, want := range map[cluster.MessageType]bool{
		cluster.Broadcast: false, cluster.SocketsJoin: false, cluster.SocketsLeave: false,
		cluster.DisconnectSockets: false, cluster.FetchSockets: true, cluster.ServerSideEmit: true,
		cluster.Heartbeat: true, cluster.InitialHeartbeat: true, cluster.AdapterClose: true,
	} {
		if got := isEphemeral(&cluster.Message{Type: typ}); got != want {
			t.Errorf("type %d: ephemeral %v", typ, got)
		}
	}
}
