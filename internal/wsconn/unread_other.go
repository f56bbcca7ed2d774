//go:build !linux

package wsconn

import "errors"

// inQueue is not wired up off Linux; rawConn is nil there, so Unread
// reports errors.ErrUnsupported before reaching it.
func inQueue(uintptr) (int, error) { return 0, errors.ErrUnsupported }
