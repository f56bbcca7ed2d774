package load

import (
	"sync"
	"time"
)

// pollEchoLoops runs one goroutine per polling client: HTTP requests block,
// so an event loop would buy nothing here.
func pollEchoLoops(run *echoRun, clients []*pollConn, arg []byte, timeline func()) error {
	var wg sync.WaitGroup
	for _, pc := range clients {
		if pc == nil {
			continue
		}
		wg.Add(1)
		go func(e *pollEcho) {
			defer wg.Done()
			for id := int64(0); ; id++ {
				run.total.Add(1)
				t0 := time.Now()
				if err := e.roundTrip(id); err != nil {
					run.fail(err)
					return
				}
				if !run.answered(t0) {
					return
				}
			}
		}(&pollEcho{pc: pc, arg: arg})
	}
	timeline()
	// Unblock requests waiting on a silent server, then wait, bounded.
	for _, pc := range clients {
		if pc != nil {
			pc.cancel()
		}
	}
	waitBounded(&wg, 5*time.Second)
	return nil
}
