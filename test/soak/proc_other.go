//go:build !linux

package main

import (
	"errors"
	"syscall"
)

// The soak reads /proc and uses prlimit(2): Linux only. These stubs let
// the module build elsewhere.

var errLinuxOnly = errors.New("the soak test runs on Linux only")

func fdCount(int) (int, error)         { return 0, errLinuxOnly }
func rssBytes(int) (int64, error)      { return 0, errLinuxOnly }
func limitFiles(int, int) error        { return errLinuxOnly }
func childAttrs() *syscall.SysProcAttr { return nil }
func setRcvBuf(uintptr, int) error     { return nil }
