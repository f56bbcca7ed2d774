package redis

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/sockio/sockio/internal/notepack"
)

// Values on the wire are decoded into notepack's values (notepack.Map for
// objects, int64 or float64 for numbers, []byte for binary), whether the
// message came as MessagePack or as JSON; adapter/internal/wire reads
// them, as the cluster core does.

// decodeMessage decodes a message: JSON when it starts with '{', as the
// reference decides, MessagePack otherwise.
func decodeMessage(b []byte) (any, error) {
	if len(b) > 0 && b[0] == '{' {
		return notepack.ParseJSON(b, nil)
	}
	return notepack.Unmarshal(b)
}

// encodeJSON writes a wire value as JSON.stringify would: binary as a
// Node.js Buffer's JSON form, {"type":"Buffer","data":[...]}.
func encodeJSON(v any) ([]byte, error) { return notepack.AppendStringify(nil, v) }

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
