// Package wire reads and writes the values that cluster messages carry
// between sockio nodes and their Node.js peers: broadcast options, event
// packets, sockets of a fetchSockets answer, server-side event arguments.
//
// Values come decoded from MessagePack or JSON (internal/notepack: Map for
// objects, int64 or float64 for numbers, []byte for binary) or from a
// broker's own JSON decoding (map[string]any, float64): every accessor
// reads both. Shared by adapter/cluster and adapter/redis's classic
// protocol, so the two read the wire the same way.
package wire
