package nats

import (
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio/adapter/cluster"
)

// RecoveringBroker is a Broker whose namespace messages go through a
// JetStream stream, read back by ReadFrom (cluster.Log), with the sessions
// of disconnected sockets in a JetStream key-value bucket
// (cluster.SessionStore): connection-state recovery across nodes.
type RecoveringBroker struct {
	*Broker
}

var (
	_ cluster.Broker       = (*RecoveringBroker)(nil)
	_ cluster.Log          = (*RecoveringBroker)(nil)
	_ cluster.SessionStore = (*RecoveringBroker)(nil)
)

func newRecovering(b *Broker) *RecoveringBroker {
	if b.err == nil {
		js, err := jetstream.New(b.nc)
		if err != nil {
			b.err = fmt.Errorf("nats adapter: jetstream: %w", err)
		}
		b.js = js
	}
	b.stores = &stores{b: b}
	return &RecoveringBroker{Broker: b}
}
