// Package notepack is the MessagePack dialect that Socket.IO's Redis
// adapter and emitter for Node.js write and read: the notepack.io codec.
//
// Decoding gives plain Go values, with maps kept in their wire order:
//
//	nil                 nil
//	fixext1 type 0      Undefined (notepack 2's JavaScript undefined)
//	true, false         bool
//	int, uint           int64 (uint64 only above math.MaxInt64)
//	float32, float64    float64
//	str                 string
//	bin                 []byte
//	ext type 0          []byte (notepack's ArrayBuffer / typed array)
//	timestamp (-1)      time.Time
//	other ext           Ext
//	array               []any
//	map                 Map (keys as strings, as JavaScript objects have)
//
// Encoding follows notepack.io 3: a number is an integer of the smallest
// width when it is integral, a float64 otherwise; []byte is bin; nil and
// Undefined are nil; time.Time is a timestamp; a map[string]any has its
// keys sorted; any other type is written as its encoding/json form.
//
// AppendJSON and WriteJSON translate between MessagePack and the JSON of a
// Socket.IO packet, whose binary parts are placeholders
// ({"_placeholder":true,"num":N}) referring to attachments: placeholders
// become bin and back, object keys keep their order, and numbers and
// strings are written as JavaScript's JSON.stringify writes them.
package notepack
