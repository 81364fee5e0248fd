package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// TestKernelMapInMap compares lookups through array_of_maps and
// hash_of_maps with the kernel's: the program looks up slot 0 of the
// outer map, then key 0 in the inner map it got, returns the value (100:
// no inner map, 101: no entry) and increments it in place, twice per
// case; then the inner map's entry is compared too. Skips without BPF.
func TestKernelMapInMap(t *testing.T) {
	insns := asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference("outer"),
		asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "no_inner"),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "no_entry"),
		asm.LoadMem(asm.R6, asm.R0, 0, asm.Word),
		asm.Mov.Reg(asm.R7, asm.R6), asm.Add.Imm(asm.R7, 1),
		asm.StoreMem(asm.R0, 0, asm.R7, asm.Word),
		asm.Mov.Reg(asm.R0, asm.R6),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 100).WithSymbol("no_inner"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 101).WithSymbol("no_entry"),
		asm.Return(),
	}
	innerSpec := &cebpf.MapSpec{Name: "inner", Type: cebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4}
	type slot struct {
		key     uint32
		entries map[uint32]uint32 // the inner map's
	}
	cases := []struct {
		name  string
		slots []slot
	}{
		{"empty", nil},
		{"slot 0 holds an empty map", []slot{{0, nil}}},
		{"slot 0 holds 0 → 7", []slot{{0, map[uint32]uint32{0: 7}}}},
		{"only slot 1", []slot{{1, map[uint32]uint32{0: 7}}}},
		{"slots 0 and 1", []slot{{1, map[uint32]uint32{0: 5}}, {0, map[uint32]uint32{0: 9, 1: 3}}}},
	}
	for _, typ := range []cebpf.MapType{cebpf.ArrayOfMaps, cebpf.HashOfMaps} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/%s", typ, c.name), func(t *testing.T) {
				ospec := &cebpf.MapSpec{Name: "outer", Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 2, InnerMap: innerSpec}
				outer, err := cebpf.NewMap(ospec)
				if err != nil {
					if errors.Is(err, os.ErrPermission) || errors.Is(err, cebpf.ErrNotSupported) {
						t.Skipf("the kernel does not create maps here: %v", err)
					}
					t.Fatal(err)
				}
				defer outer.Close()
				// The interpreter's maps, in the same state.
				inner := emulator.MapSpec{Type: emulator.MapHash, KeySize: 4, ValueSize: 4, MaxEntries: 4}
				em, err := emulator.NewMap(emulator.MapSpec{Name: "outer", Type: emulator.MapType(typ), KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: &inner})
				if err != nil {
					t.Fatal(err)
				}
				kinner := map[uint32]*cebpf.Map{}
				for _, s := range c.slots {
					km, err := cebpf.NewMap(innerSpec)
					if err != nil {
						t.Fatal(err)
					}
					defer km.Close()
					in, err := emulator.NewInner(em, le32(s.key))
					if err != nil {
						t.Fatal(err)
					}
					for k, v := range s.entries {
						if err := km.Put(k, v); err != nil {
							t.Fatal(err)
						}
						if err := in.Update(le32(k), le32(v), emulator.UpdateAny); err != nil {
							t.Fatal(err)
						}
					}
					if err := outer.Put(s.key, km); err != nil {
						t.Fatal(err)
					}
					if err := em.(emulator.OuterMap).SetInner(le32(s.key), in); err != nil {
						t.Fatal(err)
					}
					kinner[s.key] = km
				}
				// A copy: AssociateMap resolves the reference in place.
				kinsns := append(asm.Instructions(nil), insns...)
				kspec := &cebpf.ProgramSpec{Type: cebpf.XDP, Instructions: kinsns, License: "GPL"}
				if err := kinsns.AssociateMap("outer", outer); err != nil {
					t.Fatal(err)
				}
				kp, err := cebpf.NewProgram(kspec)
				if err != nil {
					t.Fatalf("kernel rejects: %v", err)
				}
				defer kp.Close()
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
				m, err := New([]Prog{{Name: "p", Hook: emulator.HookXDP, Insns: linked}}, []emulator.Map{em}, nil, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for run := 0; run < 2; run++ {
					kret, err := kp.Run(&cebpf.RunOptions{Data: make([]byte, 64)})
					if err != nil {
						t.Skipf("BPF_PROG_TEST_RUN is not available: %v", err)
					}
					res, err := m.Run(0, Input{Packet: make([]byte, 64)})
					if err != nil {
						t.Fatal(err)
					}
					if uint32(res.Return) != kret {
						t.Errorf("run %d: kernel %d, interpreter %d", run, kret, res.Return)
					}
				}
				for key, km := range kinner {
					var kv uint32
					kerr := km.Lookup(uint32(0), &kv)
					ev := em.(emulator.OuterMap).LookupInner(le32(key)).Lookup(le32(0))
					switch {
					case (kerr == nil) != (ev != nil):
						t.Errorf("slot %d, key 0: kernel %v, interpreter %x", key, kerr, ev)
					case ev != nil && binary.LittleEndian.Uint32(ev) != kv:
						t.Errorf("slot %d, key 0: kernel %d, interpreter %d", key, kv, binary.LittleEndian.Uint32(ev))
					}
				}
			})
		}
	}
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
