package conformance

import (
	"bytes"
	"fmt"
	"math"

	"github.com/nfpcc/nfpcc/emulator"
)

// Helpers is the helper set the conformance and uBPF tests call: uBPF's
// test helpers (ubpf_plugin/test_helpers.h), by their numbers there.
// Number 5, unwind, returns its argument and, when that is 0, ends the
// program (uBPF registers it as the "unwind" function).
func Helpers() emulator.HelperSet {
	s := emulator.HelperSet{}
	add := func(id int32, name string, fn emulator.HelperFunc) {
		s[id] = &emulator.Helper{ID: id, Name: name, Fn: fn}
	}
	add(0, "gather_bytes", func(_ *emulator.Env, _ emulator.Memory, a *[5]uint64) (uint64, error) {
		return (a[0]&0xff)<<32 | (a[1]&0xff)<<24 | (a[2]&0xff)<<16 | (a[3]&0xff)<<8 | a[4]&0xff, nil
	})
	add(1, "memfrob", func(_ *emulator.Env, mem emulator.Memory, a *[5]uint64) (uint64, error) {
		b, err := mem.Bytes(a[0], a[1], true)
		if err != nil {
			return 0, err
		}
		for i := range b {
			b[i] ^= 42
		}
		return 0, nil
	})
	add(2, "no_op", func(*emulator.Env, emulator.Memory, *[5]uint64) (uint64, error) { return 0, nil })
	add(3, "sqrti", func(_ *emulator.Env, _ emulator.Memory, a *[5]uint64) (uint64, error) {
		return uint64(math.Sqrt(float64(a[0]))), nil
	})
	add(4, "strcmp_ext", func(_ *emulator.Env, mem emulator.Memory, a *[5]uint64) (uint64, error) {
		x, err := cString(mem, a[0])
		if err != nil {
			return 0, err
		}
		y, err := cString(mem, a[1])
		if err != nil {
			return 0, err
		}
		return uint64(int64(bytes.Compare(x, y))), nil
	})
	add(5, "unwind", func(_ *emulator.Env, _ emulator.Memory, a *[5]uint64) (uint64, error) {
		if a[0] == 0 {
			return 0, emulator.ErrExit
		}
		return a[0], nil
	})
	return s
}

// cString reads a NUL-terminated string byte by byte (each byte checked).
func cString(mem emulator.Memory, p uint64) ([]byte, error) {
	var out []byte
	for i := uint64(0); i < 1<<16; i++ {
		b, err := mem.Bytes(p+i, 1, false)
		if err != nil {
			return nil, err
		}
		if b[0] == 0 {
			return out, nil
		}
		out = append(out, b[0])
	}
	return nil, fmt.Errorf("string at %#x is not terminated within 64 KiB", p)
}
