package ebpf

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// TestManyValueRegions looks up more distinct map values in one run than
// ValueAddr finds by a scan (linearValues), twice each: the same value
// must get the same address every time in a run, writes through it must
// reach the map, and the next run must start afresh.
func TestManyValueRegions(t *testing.T) {
	const n = 3*linearValues + 1
	arr, err := emulator.NewMap(emulator.MapSpec{Name: "arr", Type: emulator.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: n})
	if err != nil {
		t.Fatal(err)
	}
	lookup := asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
	}
	var prog asm.Instructions
	prog = append(prog, asm.Mov.Imm(asm.R7, 0))
	prog = append(prog, asm.StoreMem(asm.R10, -4, asm.R7, asm.Word).WithSymbol("loop"))
	prog = append(prog, lookup...)
	prog = append(prog, asm.JEq.Imm(asm.R0, 0, "fail"), asm.Mov.Reg(asm.R6, asm.R0))
	prog = append(prog, lookup...)
	prog = append(prog,
		asm.JNE.Reg(asm.R0, asm.R6, "fail"), // the same value, the same address
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.Add.Imm(asm.R7, 1),
		asm.JLT.Imm(asm.R7, n, "loop"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("fail"),
		asm.Return(),
	)
	linked, err := linkForTest(prog)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New([]Prog{{Name: "values", Hook: emulator.HookXDP, Insns: linked}}, []emulator.Map{arr}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 3; run++ {
		res, err := m.Run(0, Input{Packet: benchFrames[0]})
		if err != nil || res.Return != 1 {
			t.Fatalf("run %d: r0 %v, error %v", run, res, err)
		}
		if got := len(m.regions) - m.fixedRegions; got != n {
			t.Errorf("run %d: %d value regions, want %d (one per value)", run, got, n)
		}
		for k := uint32(0); k < n; k++ {
			v := arr.Lookup(binary.LittleEndian.AppendUint32(nil, k))
			if c := binary.LittleEndian.Uint64(v); c != uint64(run) {
				t.Fatalf("run %d: arr[%d] = %d", run, k, c)
			}
		}
	}
	if len(m.valueIndex) != n-linearValues {
		t.Errorf("valueIndex holds %d entries after the last run, want %d", len(m.valueIndex), n-linearValues)
	}
}
