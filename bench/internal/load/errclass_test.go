package load

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&phaseError{"dial", fmt.Errorf("x: %w", syscall.ECONNREFUSED)}, "dial/refused"},
		{&phaseError{"upgrade", &statusError{503}}, "upgrade/http503"},
		{&phaseError{"connect", context.DeadlineExceeded}, "connect/timeout"},
		{&phaseError{"open", io.ErrUnexpectedEOF}, "open/closed"},
		{&phaseError{"connect", &protocolError{"44"}}, "connect/protocol"},
		{fmt.Errorf("wrapped: %w", syscall.EADDRNOTAVAIL), "other/no-port"},
	} {
		if got := classify(c.err); got != c.want {
			t.Errorf("classify(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
