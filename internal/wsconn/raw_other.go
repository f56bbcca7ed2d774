//go:build !linux

package wsconn

import (
	"net"
	"syscall"
)

// rawConn is Linux-only for now: elsewhere TryWriteFrames reports
// ErrCannotTry and writes go through WriteFrames.
func rawConn(net.Conn) syscall.RawConn { return nil }

func writevNonblock(uintptr, [][]byte) ([][]byte, error) { return nil, ErrCannotTry }

func readFD(uintptr, []byte) (int, error) { return 0, ErrCannotTry }
