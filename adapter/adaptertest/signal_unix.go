//go:build unix

package adaptertest

import "syscall"

const canSignal = true

// freeze stops the child (SIGSTOP): its sockets stay open, it answers
// nothing, as a node stuck in a long GC pause or a frozen VM.
func (c *child) freeze() error { return c.cmd.Process.Signal(syscall.SIGSTOP) }

// thaw lets a frozen child run again.
func (c *child) thaw() error { return c.cmd.Process.Signal(syscall.SIGCONT) }
