package nats

import (
	"sync/atomic"
	"time"
)

// Stats counts what a Broker sent, received and lost. Every message that
// did not make it is in one of the loss counters.
type Stats struct {
	Published    uint64 // messages handed to NATS (core or JetStream)
	Delivered    uint64 // messages handed to the handlers
	NotPublished uint64 // publishes that failed: connection down, reconnect buffer full, no JetStream ack
	Malformed    uint64 // received messages that were not cluster messages
	SlowDropped  uint64 // messages NATS dropped because a handler fell behind (slow consumer)
	Disconnects  uint64 // times the connection was lost
	Deaf         time.Duration
}

type counters struct {
	published, delivered, notPublished, malformed, disconnects atomic.Uint64
	deafNanos                                                  atomic.Int64
}
