package wsconn

import (
	"syscall"
	"unsafe"
)

// inQueue is the number of bytes the kernel holds, unread, for the socket
// fd (ioctl FIONREAD, which Linux names TIOCINQ).
func inQueue(fd uintptr) (int, error) {
	var n int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
