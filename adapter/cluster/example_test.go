package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/adapter/cluster"
)

// Two servers of one process share a MemoryBroker: a broadcast from one
// reaches the clients of both, and with connection-state recovery on, a
// client of one can recover on the other. A real cluster gives each node
// a network broker (adapter/redisstreams, adapter/nats) instead.
func Example() {
	broker := cluster.NewMemoryBroker() // in-process only: not a network broker
	recovery := &sockio.RecoveryOptions{MaxDisconnectionDuration: 2 * time.Minute}
	a := sockio.NewServer(sockio.Options{Adapter: cluster.NewAdapter(broker, cluster.Options{}), ConnectionStateRecovery: recovery})
	b := sockio.NewServer(sockio.Options{Adapter: cluster.NewAdapter(broker, cluster.Options{}), ConnectionStateRecovery: recovery})
	defer a.Close(context.Background())
	defer b.Close(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/a/socket.io/", http.StripPrefix("/a", a))
	mux.Handle("/b/socket.io/", http.StripPrefix("/b", b))

	// The nodes find each other through their heartbeats.
	for {
		if n, _ := a.Of("/").ServerCount(context.Background()); n == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("nodes:", 2)
	_ = a.To("lobby").Emit("hello", "from a") // b's sockets in "lobby" get it too
	// Output: nodes: 2
}

// Live sessions are on by default when the broker keeps a log and
// sessions and the server has recovery on: a client whose node is killed
// recovers through another node. Turned off, sessions are kept only when
// sockets disconnect (the reference's behaviour), at no cost while they
// are connected.
func ExampleOptions_liveSessions() {
	broker := cluster.NewMemoryBroker()
	live := cluster.Options{LiveSessionsFlush: 500 * time.Millisecond} // writes changes twice a second
	off := cluster.Options{DisableLiveSessions: true}
	recovery := &sockio.RecoveryOptions{MaxDisconnectionDuration: 2 * time.Minute}
	a := sockio.NewServer(sockio.Options{Adapter: cluster.NewAdapter(broker, live), ConnectionStateRecovery: recovery})
	b := sockio.NewServer(sockio.Options{Adapter: cluster.NewAdapter(broker, off), ConnectionStateRecovery: recovery})
	defer a.Close(context.Background())
	defer b.Close(context.Background())
	fmt.Println("a keeps the sessions of its connected sockets; b only of those that disconnect")
	// Output: a keeps the sessions of its connected sockets; b only of those that disconnect
}
