package verifier_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
)

// FuzzVerify feeds arbitrary instruction streams to the verifier: it must
// answer (accept or reject with an error) and never panic.
func FuzzVerify(f *testing.F) {
	seeds := [][]byte{
		{0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},                                                                // r0 = 0; exit
		{0x61, 0x12, 0, 0, 0, 0, 0, 0, 0x61, 0x13, 4, 0, 0, 0, 0, 0, 0x71, 0x20, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0}, // packet load
		{0x18, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x85, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},
	}
	for _, s := range seeds {
		f.Add(byte(0), s)
	}
	maps := []*loader.Map{
		{Name: "hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Name: "array", Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4},
		{Name: "rodata", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, ReadOnly: true, Contents: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
	}
	types := []ebpf.ProgramType{ebpf.XDP, ebpf.SchedCLS, ebpf.SocketFilter, ebpf.Kprobe}
	f.Fuzz(func(t *testing.T, sel byte, code []byte) {
		var insns asm.Instructions
		r := bytes.NewReader(code)
		for r.Len() >= 8 {
			var ins asm.Instruction
			if err := ins.Unmarshal(r, binary.LittleEndian, "linux"); err != nil {
				break
			}
			insns = append(insns, ins)
		}
		if len(insns) == 0 {
			return
		}
		prog := &loader.Program{Name: "fuzz", Insns: insns, Type: types[int(sel)%len(types)]}
		opts := &verifier.Options{MaxInsns: 20000}
		if sel&0x80 != 0 {
			opts.Target = verifier.NFPTarget
		}
		res, err := verifyBoth(t, prog, maps, opts)
		if err == nil && res == nil {
			t.Fatal("no result and no error")
		}
		if err != nil {
			_ = err.Error()
		}
	})
}
