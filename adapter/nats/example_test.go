package nats_test

import (
	"log"
	"time"

	"github.com/sockio/sockio"
	sionats "github.com/sockio/sockio/adapter/nats"
)

// Every node of the cluster connects to NATS and uses the same options;
// with Recovery, a client whose node went away recovers on any other.
func Example() {
	nc, err := sionats.Connect("nats://127.0.0.1:4222", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	srv := sockio.NewServer(sockio.Options{
		Adapter: sionats.NewAdapter(nc, sionats.Options{
			Recovery: sionats.Recovery{Window: 2 * time.Minute},
		}),
		ConnectionStateRecovery: &sockio.RecoveryOptions{MaxDisconnectionDuration: 2 * time.Minute},
	})
	_ = srv.Emit("hello", "world") // every client of every node
}
