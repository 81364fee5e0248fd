package ebpf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
)

// raw decodes encoded instruction words (one uint64 per slot, as the
// instruction's 8 little-endian bytes).
func raw(t *testing.T, words ...uint64) asm.Instructions {
	t.Helper()
	var b []byte
	for _, w := range words {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(b), binary.LittleEndian, "linux")
	if err != nil {
		t.Fatal(err)
	}
	return insns
}

func TestLoadErrors(t *testing.T) {
	const exit = 0x95
	cases := []struct {
		name  string
		insns asm.Instructions
		want  string
	}{
		{"unknown opcode", raw(t, 0xff, exit), "unknown opcode 0xff"},
		{"add imm with offset", raw(t, 0x0000000100010007, exit), "reserved field offset is 1"},
		{"add reg with imm", raw(t, 0x000000010000000f, exit), "reserved field imm is 1"},
		{"exit with src", raw(t, 0x1095), "reserved field src"},
		{"ldxdw with imm", raw(t, 0x00000001fff8a079, 0x00000000000000b7, exit), "reserved field imm"},
		{"bad endian width", raw(t, 0x00000008000000d4, exit), "byte swap width 8"},
		{"jump out", raw(t, 0x0000000000050005, exit), "jump out of range"},
		{"jump into lddw", raw(t, 0x0000000000010005, 0x18, 0, exit), "middle of lddw"},
		{"write r10", raw(t, 0x0000000000000ab7, exit), "frame pointer r10 is read only"},
		{"uninitialized r0", raw(t, exit), "r0 is read before it is written"},
		{"uninitialized r3", raw(t, 0x00000000000030bf, exit), "r3 is read before it is written"},
		{"unknown helper", raw(t, 0x000000c800000085, exit), "unknown helper FnRingbufDiscardDynptr (#200)"},
		{"no exit at the end", raw(t, 0x00000000000000b7), "last instruction is not exit"},
		{"register 11", raw(t, 0x0000000000000bb7, exit), "invalid register"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ebpf.New([]ebpf.Prog{{Name: "p", Insns: c.insns}}, nil, nil, ebpf.Options{})
			if err == nil {
				t.Fatalf("loaded; want an error containing %q", c.want)
			}
			var le *ebpf.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a LoadError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestRuntimeErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		mem  []byte
		want []string // fragments of the message
	}{
		{"stack below frame", "ldxdw %r0, [%r10-4104]\nexit", nil, []string{"pc 0", "out-of-bounds read of 8 bytes", "stack region"}},
		{"below the 512-byte frame", "ldxdw %r0, [%r10-520]\nexit", nil, []string{"pc 0", "stack region, valid offsets [3584, 4096), offset 3576"}},
		{"callee below its frame", "call local f\nexit\nf:\nldxb %r0, [%r10-513]\nexit", nil, []string{"pc 2", "valid offsets [3072, 4096), offset 3071"}},
		{"stack above top", "stw [%r10], 1\nmov %r0, 0\nexit", nil, []string{"pc 0", "write of 4 bytes", "stack region"}},
		{"null", "mov %r1, 0\nldxb %r0, [%r1]\nexit", nil, []string{"pc 1", "NULL"}},
		{"past mem", "ldxw %r0, [%r1+2]\nexit", []byte{1, 2, 3, 4}, []string{"pc 0", "memory region, valid offsets [0, 4), offset 2"}},
		{"scalar as pointer", "mov %r1, 1234\nldxb %r0, [%r1]\nexit", nil, []string{"NULL"}},
		{"endless loop", "mov %r0, 0\nja -1\nexit", nil, []string{"instruction limit reached"}},
		{"recursion", "mov %r0, 0\ncall local f\nexit\nf:\ncall local f\nexit", nil, []string{"call stack deeper than 8"}},
		{"callx unknown helper", "mov %r1, 99\ncall %r1\nexit", nil, []string{"callx to unknown helper"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, c.src, c.mem)
			if err == nil {
				t.Fatal("ran; want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestInstructionLimit(t *testing.T) {
	m, err := ebpf.New([]ebpf.Prog{{Name: "loop", Insns: assemble(t, "mov %r0, 0\nja -1\nexit")}}, nil, nil, ebpf.Options{MaxInstructions: 1000})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(0, ebpf.Input{})
	if !errors.Is(err, ebpf.ErrInstructionLimit) && !strings.Contains(err.Error(), ebpf.ErrInstructionLimit.Error()) {
		t.Fatalf("err = %v", err)
	}
	if res.Instructions != 1000 {
		t.Errorf("counted %d instructions, want 1000", res.Instructions)
	}
}

func TestInstructionCount(t *testing.T) {
	m, err := ebpf.New([]ebpf.Prog{{Name: "p", Insns: assemble(t, "mov %r0, 3\nsub %r0, 1\njne %r0, 0, -2\nexit")}}, nil, nil, ebpf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(0, ebpf.Input{})
	if err != nil {
		t.Fatal(err)
	}
	// mov, then 3 × (sub, jne), then exit.
	if res.Instructions != 8 {
		t.Errorf("instructions = %d, want 8", res.Instructions)
	}
	_ = emulator.HookNone
}
