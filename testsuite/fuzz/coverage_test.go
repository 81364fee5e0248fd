package fuzz

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/testsuite/conformance"
)

// TestFormNames: instructions decoded from the conformance assembler's
// text get the form names allForms lists (so the coverage figure counts
// what it says).
func TestFormNames(t *testing.T) {
	for src, want := range map[string]string{
		"sdiv32 %r1, %r2":             "alu32 sdiv x",
		"smod %r1, 3":                 "alu64 smod k",
		"movsx864 %r1, %r2":           "alu64 movsx8 x",
		"movsx1632 %r1, %r2":          "alu32 movsx16 x",
		"lock fetch and [%r1+0], %r2": "atomicdw fetch_and",
		"lock xchg32 [%r1+0], %r2":    "atomicw xchg",
		"lock cmpxchg [%r1+0], %r2":   "atomicdw cmpxchg",
		"lock add32 [%r1+0], %r2":     "atomicw add",
		"be16 %r1":                    "be16",
		"bswap64 %r1":                 "bswap64",
		"ldxsb %r1, [%r2+0]":          "ldxsb",
		"lddw %r1, map 0":             "lddw map",
		"ja +0":                       "ja",
		"call local +0":               "call local",
		"jset32 %r1, 3, +0":           "jmp32 jset k",
	} {
		code, err := conformance.Assemble(src, 1)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		insns, err := asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		got := FormName(insns[0])
		if got != want {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
		found := false
		for _, f := range allForms {
			found = found || f == got
		}
		if !found {
			t.Errorf("%s: %q is not in allForms", src, got)
		}
	}
}
