package wsconn

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
)

// A client masks every frame with a fresh key that the network cannot
// predict (RFC 6455 10.3). ChaCha8 is a cryptographically strong
// generator; seeded from crypto/rand once per connection, it gives a key
// per frame without a system call.

func newKeySource() *mrand.ChaCha8 {
	var seed [32]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails (Go 1.24+)
	return mrand.NewChaCha8(seed)
}

// nextKey returns the next masking key; called under the write lock.
func (c *Conn) nextKey() [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], uint32(c.keys.Uint64()))
	return k
}
