package chat_test

import (
	"net/http"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/chat"
)

// The chat with connection-state recovery, as `sockio serve` runs it: a
// page that comes back within two minutes keeps its socket, name and room
// and gets what it missed, with no "left" line for a blip of under 30 s.
func ExampleNew() {
	io := sockio.NewServer(sockio.Options{
		ConnectionStateRecovery: &sockio.RecoveryOptions{MaxDisconnectionDuration: 2 * time.Minute},
	})
	chat.New(io.Of("/"), chat.Options{DepartureGrace: 30 * time.Second})
	http.Handle("/socket.io/", io)
	// sockio.ListenAndServe(":3000", nil)
}
