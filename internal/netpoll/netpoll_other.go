//go:build !linux

package netpoll

import "syscall"

// Watch is a socket's registration; there is none outside Linux.
type Watch struct{}

// Start reports ErrUnsupported outside Linux.
func Start(syscall.RawConn, func()) (*Watch, error) { return nil, ErrUnsupported }

// Stop does nothing.
func (*Watch) Stop() {}
