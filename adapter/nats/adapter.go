package nats

import (
	natsgo "github.com/nats-io/nats.go"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
)

// NewAdapter returns the adapter factory to set as sockio.Options.Adapter:
// the cluster protocol of adapter/cluster over NewBroker(nc, opts). With
// opts.Recovery, connection-state recovery (when the server turns it on)
// works across nodes. nc stays the caller's to close.
func NewAdapter(nc *natsgo.Conn, opts Options) sockio.AdapterFactory {
	return cluster.NewAdapter(NewBroker(nc, opts), cluster.Options{
		HeartbeatInterval: opts.HeartbeatInterval,
		HeartbeatTimeout:  opts.HeartbeatTimeout,
		RequestsTimeout:   opts.RequestsTimeout,
		Logger:            opts.Logger,

		DisableLiveSessions: opts.DisableLiveSessions,
		LiveSessionsFlush:   opts.LiveSessionsFlush,
	})
}
