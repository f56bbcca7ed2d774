package main

import (
	"fmt"
	"os"

	"github.com/sockio/sockio/bench/internal/load"
)

// report prints one result as asked and appends it to out.
func report(res *load.Result, brief, quiet bool, out string) error {
	switch {
	case brief:
		fmt.Println(res.Brief())
	case !quiet:
		res.WriteTable(os.Stdout)
	}
	if out != "" {
		return appendJSON(out, res)
	}
	return nil
}

func splitLast(rs []*load.Result) (*load.Result, []*load.Result) {
	if len(rs) == 0 {
		return nil, nil
	}
	return rs[len(rs)-1], rs[:len(rs)-1]
}

func appendJSON(path string, res *load.Result) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", path, err)
	}
	if err := res.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
