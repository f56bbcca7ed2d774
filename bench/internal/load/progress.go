package load

import (
	"fmt"
	"io"
	"time"
)

// progress rewrites one status line on a terminal every second until
// stop is called; without a terminal it does nothing.
type progress struct {
	stop chan struct{}
	done chan struct{}
}

func startProgress(w io.Writer, line func() string) *progress {
	p := &progress{stop: make(chan struct{}), done: make(chan struct{})}
	if w == nil {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(w, "\r\033[K%s", line())
			}
		}
	}()
	return p
}

func (p *progress) end() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}
