//go:build !unix

package adaptertest

import "errors"

const canSignal = false

var errNoSignals = errors.New("adaptertest: no SIGSTOP on this platform")

func (c *child) freeze() error { return errNoSignals }

func (c *child) thaw() error { return errNoSignals }
