package adaptertest

import (
	"testing"
	"time"

	"github.com/sockio/sockio"
)

// Config describes the adapter under test.
type Config struct {
	// NewNode returns the AdapterFactory of one more node of cluster.
	// Nodes given one cluster name form one cluster; nodes of different
	// names must never see each other's messages. The suite makes a fresh
	// name per scenario (a short [a-z0-9-] string, fit for a key, channel
	// or subject prefix). With CrossProcess, NewNode is also called in a
	// child process of the test binary, with the same name. Resources it
	// opens are released with t.Cleanup. Required.
	NewNode func(t testing.TB, cluster string) sockio.AdapterFactory

	// SingleNode: the adapter has no cluster (the in-memory adapter). The
	// scenarios run on one node, and those that need several are skipped.
	SingleNode bool

	// Recovery: connection-state recovery works across the nodes (on the
	// one node with SingleNode). Off: the Recovery scenarios are skipped.
	Recovery bool

	// CrossProcess: nodes made by NewNode in another process of this
	// machine join the cluster (the broker is a server, not memory). It
	// turns on the scenarios that run a node in a child process to kill
	// it (SIGKILL) or freeze it (SIGSTOP). Run must then be called at the
	// top of a top-level test (the child re-runs that test alone), and the
	// platform must have those signals.
	CrossProcess bool

	// RestartBroker, optional, returns the node factory of a cluster on a
	// broker of the scenario's own, and a func that stops that broker and
	// starts it again (returning once it accepts connections), for the
	// BrokerRestart scenario.
	RestartBroker func(t *testing.T) (newNode func() sockio.AdapterFactory, restart func())

	// Inject, optional, publishes payload as is on the broker, wherever
	// the nodes of cluster listen for namespace nsp (every channel or
	// subject they subscribe to), for the HostileMessages scenario.
	Inject func(t testing.TB, cluster, nsp string, payload []byte) error
	// Hostile are payloads for Inject in the broker's own encoding, added
	// to the suite's generic ones.
	Hostile [][]byte

	// RequestsTimeout is the requests timeout NewNode gives its adapters
	// (default 5s, the reference's). The suite's bound on a request that
	// meets a dead or frozen node is this plus a margin: a request must
	// end by then, with or without an error wrapping sockio.ErrTimeout.
	// Set it short (1s) to keep the suite quick.
	RequestsTimeout time.Duration
	// NodeTimeout is how long after a node dies without a word the others
	// count it out of ServerCount (default 15s): the heartbeat timeout of
	// a heartbeat-based adapter, the broker noticing a lost connection for
	// one that asks the broker.
	NodeTimeout time.Duration
	// SessionKept is how soon after a socket connects, or its rooms or
	// data change, its node has kept that where another node recovers it
	// should the node die (default 1.5s: adapter/cluster writes the live
	// sessions every second, Options.LiveSessionsFlush). The NodeKilled
	// scenario kills the node that much after the last change.
	SessionKept time.Duration

	// Skip names scenarios the adapter fails today, by their path under
	// Run ("Recovery/NodeKilled"), with the reason (the gap and its issue).
	// They run as t.Skip with that reason, so they stay in sight.
	Skip map[string]string
}

func (c Config) withDefaults() Config {
	if c.RequestsTimeout <= 0 {
		c.RequestsTimeout = 5 * time.Second
	}
	if c.NodeTimeout <= 0 {
		c.NodeTimeout = 15 * time.Second
	}
	if c.SessionKept <= 0 {
		c.SessionKept = 1500 * time.Millisecond
	}
	return c
}

// requestBound is how long a request may take when a node is dead or
// frozen: the adapter's timeout plus a margin for a loaded machine.
func (c Config) requestBound() time.Duration { return c.RequestsTimeout + 5*time.Second }
