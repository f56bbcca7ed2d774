package wsconn

import (
	"net"
	"syscall"
	"unsafe"
)

// maxIovecs bounds one writev (Linux allows 1024); a batch rarely has more
// than a few, and a longer one takes several calls.
const maxIovecs = 64

// rawConn returns the descriptor access used for writes that must not
// block, or nil when nc is not a plain socket (TLS, for one).
func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writevNonblock writes bufs to the non-blocking socket fd until it is all
// written or the socket would block (syscall.EAGAIN); it returns what is left.
func writevNonblock(fd uintptr, bufs [][]byte) ([][]byte, error) {
	var iov [maxIovecs]syscall.Iovec
	for len(bufs) > 0 {
		n, want := 0, 0
		for _, b := range bufs {
			if n == maxIovecs {
				break
			}
			if len(b) == 0 {
				continue
			}
			iov[n].Base = &b[0]
			iov[n].SetLen(len(b))
			want += len(b)
			n++
		}
		if n == 0 {
			return bufs[:0], nil
		}
		w, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
		clear(iov[:n])
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return bufs, errno
		}
		bufs = consume(bufs, int(w))
		if int(w) < want {
			return bufs, syscall.EAGAIN // the socket buffer is full
		}
	}
	return bufs, nil
}

// readFD reads from the non-blocking socket fd, retrying on EINTR.
func readFD(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		if err != syscall.EINTR {
			return n, err
		}
	}
}
