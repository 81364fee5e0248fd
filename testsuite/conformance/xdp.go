package conformance

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfinterp "github.com/nfpcc/nfpcc/emulator/ebpf"
)

// XDPProlog is what bpf_conformance puts before a test to run it as an XDP
// program whose packet is the test's memory (its --xdp_prolog option):
// r6 = ctx, r1 = data, r2 = the memory's length, or r0 = -1 and exit if
// the packet is shorter than size. Engines that only run XDP programs (the
// NFP) run conformance tests this way.
func XDPProlog(size int) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Imm(asm.R0, -1),
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R1, asm.R6, 0, asm.Word),
		asm.LoadMem(asm.R2, asm.R6, 4, asm.Word),
		asm.Mov.Reg(asm.R3, asm.R1),
		asm.Add.Imm(asm.R3, int32(size)),
		{OpCode: asm.JLE.Op(asm.RegSource), Dst: asm.R3, Src: asm.R2, Offset: 1},
		asm.Return(),
		asm.Mov.Imm(asm.R2, int32(size)),
	}
}

// InterpXDP runs the tests as XDP programs on the interpreter, the memory
// as the packet behind XDPProlog: the path an NFP engine takes, checked on
// the host.
type InterpXDP struct{}

func (InterpXDP) Name() string { return "interp-xdp" }

func (InterpXDP) Run(insns asm.Instructions, mem []byte) (uint64, error) {
	prog := insns
	if len(mem) > 0 {
		prog = append(XDPProlog(len(mem)), insns...)
	}
	m, err := ebpfinterp.New([]ebpfinterp.Prog{{Name: "test", Hook: emulator.HookXDP, Insns: prog}}, nil, nil,
		ebpfinterp.Options{Helpers: Helpers()})
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrLoad, err)
	}
	res, err := m.Run(0, ebpfinterp.Input{Packet: append([]byte(nil), mem...)})
	if err != nil {
		return 0, err
	}
	return res.Return, nil
}

func init() {
	Engines["interp-xdp"] = func() Engine { return InterpXDP{} }
}
