package wire

import (
	"fmt"
	"math"
	"time"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/internal/notepack"
)

// Options writes the selection and flags of a broadcast as the
// reference's encodeOptions; flags is left out when withFlags is false
// (the classic protocol's requests other than broadcasts).
func Options(opts *sockio.BroadcastOptions, withFlags bool) notepack.Map {
	m := notepack.Map{
		{Key: "rooms", Value: StringsOrEmpty(opts.Rooms)},
		{Key: "except", Value: StringsOrEmpty(opts.Except)},
	}
	if withFlags {
		m = append(m, notepack.KV{Key: "flags", Value: Flags(&opts.Flags)})
	}
	return m
}

// Flags writes broadcast flags as the reference's BroadcastFlags.
func Flags(f *sockio.BroadcastFlags) notepack.Map {
	m := notepack.Map{}
	if f.Volatile {
		m = append(m, notepack.KV{Key: "volatile", Value: true})
	}
	if f.NoCompress {
		m = append(m, notepack.KV{Key: "compress", Value: false})
	}
	if f.Local {
		m = append(m, notepack.KV{Key: "local", Value: true})
	}
	if f.Timeout > 0 {
		m = append(m, notepack.KV{Key: "timeout", Value: f.Timeout.Milliseconds()})
	}
	return m
}

// ReadOptions reads the options of a broadcast or a request; a message
// without them is malformed (the reference would fail on it too).
func ReadOptions(v any) (*sockio.BroadcastOptions, error) {
	if !IsObject(v) {
		return nil, fmt.Errorf("%w: no options", ErrMalformed)
	}
	opts := &sockio.BroadcastOptions{Rooms: Rooms(Field(v, "rooms")), Except: Rooms(Field(v, "except"))}
	flags := Field(v, "flags")
	opts.Flags.Volatile = Field(flags, "volatile") == true
	opts.Flags.NoCompress = Field(flags, "compress") == false
	if ms, ok := Number(Field(flags, "timeout")); ok && ms > 0 && ms < math.MaxInt32 {
		opts.Flags.Timeout = time.Duration(ms * float64(time.Millisecond))
	}
	return opts, nil
}
