package ebpf

import (
	"errors"
	"os"
	"testing"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// TestKernelMapErrors compares the return codes of map updates and
// deletes (flags BPF_ANY/NOEXIST/EXIST, full maps, arrays) with the
// kernel's. Each program does six operations and packs -ret (5 bits each)
// into r0. Skips without BPF.
func TestKernelMapErrors(t *testing.T) {
	type op struct {
		delete bool
		key    int32
		flags  int32
	}
	cases := []struct {
		name string
		typ  cebpf.MapType
		ops  []op
	}{
		{"hash", cebpf.Hash, []op{{false, 1, 2}, {false, 1, 1}, {false, 1, 1}, {false, 2, 0}, {false, 3, 0}, {true, 9, 0}}},
		{"hash replace when full", cebpf.Hash, []op{{false, 1, 0}, {false, 2, 0}, {false, 2, 2}, {true, 1, 0}, {false, 3, 1}, {false, 4, 0}}},
		{"hash bad flags", cebpf.Hash, []op{{false, 1, 3}, {false, 1, 8}, {false, 1, 4}, {true, 1, 0}, {true, 1, 0}, {false, 1, 2}}},
		{"array", cebpf.Array, []op{{false, 0, 1}, {false, 5, 0}, {false, 1, 2}, {true, 0, 0}, {false, 1, 0}, {false, 2, 0}}},
		{"lru hash", cebpf.LRUHash, []op{{false, 1, 0}, {false, 2, 0}, {false, 3, 0}, {false, 3, 1}, {false, 9, 2}, {true, 8, 0}}},
		{"percpu array", cebpf.PerCPUArray, []op{{false, 0, 1}, {false, 1, 2}, {false, 2, 0}, {true, 0, 0}, {false, 0, 0}, {false, 1, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := &cebpf.MapSpec{Name: "m", Type: c.typ, KeySize: 4, ValueSize: 8, MaxEntries: 2}
			km, err := cebpf.NewMap(spec)
			if err != nil {
				if errors.Is(err, os.ErrPermission) || errors.Is(err, cebpf.ErrNotSupported) {
					t.Skipf("the kernel does not create maps here: %v", err)
				}
				t.Fatal(err)
			}
			defer km.Close()
			insns := asm.Instructions{asm.Mov.Imm(asm.R6, 0), asm.StoreImm(asm.R10, -16, 7, asm.Word), asm.StoreImm(asm.R10, -12, 0, asm.Word)}
			for _, o := range c.ops {
				insns = append(insns,
					asm.StoreImm(asm.R10, -4, int64(o.key), asm.Word),
					asm.LoadMapPtr(asm.R1, 0).WithReference("m"),
					asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -4))
				if o.delete {
					insns = append(insns, asm.FnMapDeleteElem.Call())
				} else {
					insns = append(insns, asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -16), asm.Mov.Imm(asm.R4, o.flags), asm.FnMapUpdateElem.Call())
				}
				insns = append(insns, asm.Neg.Imm(asm.R0, 0), asm.And.Imm(asm.R0, 31), asm.LSh.Imm(asm.R6, 5), asm.Or.Reg(asm.R6, asm.R0))
			}
			insns = append(insns, asm.Mov.Reg(asm.R0, asm.R6), asm.Return())
			kspec := &cebpf.ProgramSpec{Type: cebpf.XDP, Instructions: insns, License: "GPL"}
			kinsns := kspec.Instructions
			if err := kinsns.AssociateMap("m", km); err != nil {
				t.Fatal(err)
			}
			kp, err := cebpf.NewProgram(kspec)
			if err != nil {
				t.Fatalf("kernel rejects: %v", err)
			}
			defer kp.Close()
			kret, err := kp.Run(&cebpf.RunOptions{Data: make([]byte, 64)})
			if err != nil {
				t.Skipf("BPF_PROG_TEST_RUN is not available: %v", err)
			}
			// The interpreter's form: the map reference as map index 0.
			var ours asm.Instructions
			for _, ins := range insns {
				if ins.IsLoadFromMap() {
					ins = asm.LoadMapPtr(ins.Dst, 0)
				}
				ours = append(ours, ins)
			}
			linked, err := linkForTest(ours)
			if err != nil {
				t.Fatal(err)
			}
			em, err := emulator.NewMap(emulator.MapSpec{Name: "m", Type: emulator.MapType(c.typ), KeySize: 4, ValueSize: 8, MaxEntries: 2})
			if err != nil {
				t.Fatal(err)
			}
			m, err := New([]Prog{{Name: "p", Hook: emulator.HookXDP, Insns: linked}}, []emulator.Map{em}, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.Run(0, Input{Packet: make([]byte, 64)})
			if err != nil {
				t.Fatal(err)
			}
			if uint32(res.Return) != kret {
				t.Errorf("-errno per operation: kernel %v, interpreter %v", unpack(kret, len(c.ops)), unpack(uint32(res.Return), len(c.ops)))
			}
		})
	}
}

func unpack(v uint32, n int) []uint32 {
	out := make([]uint32, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = v & 31
		v >>= 5
	}
	return out
}
