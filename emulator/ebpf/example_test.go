package ebpf_test

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
)

// An XDP program that passes frames of at least 60 bytes and drops the
// others, run on two frames.
func Example() {
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), // data_end
		asm.Add.Imm(asm.R2, 60),
		asm.Mov.Imm(asm.R0, emulator.XDPDrop),
		{OpCode: asm.JGT.Op(asm.RegSource), Dst: asm.R2, Src: asm.R3, Offset: 1},
		asm.Mov.Imm(asm.R0, emulator.XDPPass),
		asm.Return(),
	}
	m, err := ebpf.New([]ebpf.Prog{{Name: "min60", Hook: emulator.HookXDP, Insns: insns}}, nil, nil, ebpf.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range []int{64, 20} {
		res, err := m.Run(0, ebpf.Input{Packet: make([]byte, n)})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d bytes: %s after %d instructions\n", n, res.Action, res.Instructions)
	}
	// Output:
	// 64 bytes: XDP_PASS after 7 instructions
	// 20 bytes: XDP_DROP after 6 instructions
}
