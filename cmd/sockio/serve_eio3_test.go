package main

import (
	"io"
	"testing"
)

// --allow-eio3 is off by default, and $SOCKIO_ALLOW_EIO3 sets it as any
// flag's variable does.
func TestParseServeAllowEIO3(t *testing.T) {
	cfg, err := parseServe(nil, io.Discard)
	if err != nil || cfg.allowEIO3 {
		t.Fatalf("default: %v, %v", cfg.allowEIO3, err)
	}
	if cfg, err = parseServe([]string{"--allow-eio3"}, io.Discard); err != nil || !cfg.allowEIO3 {
		t.Fatalf("--allow-eio3: %v, %v", cfg.allowEIO3, err)
	}
	t.Setenv("SOCKIO_ALLOW_EIO3", "true")
	if cfg, err = parseServe(nil, io.Discard); err != nil || !cfg.allowEIO3 {
		t.Fatalf("$SOCKIO_ALLOW_EIO3=true: %v, %v", cfg.allowEIO3, err)
	}
	if cfg, err = parseServe([]string{"--allow-eio3=false"}, io.Discard); err != nil || cfg.allowEIO3 {
		t.Fatalf("the flag wins over the variable: %v, %v", cfg.allowEIO3, err)
	}
}
