package oracle

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
)

// hostState lists helpers whose result depends on the host the test runs
// on, not on the program's input: nothing to compare. Programs calling them
// run in the kernel (so the kernel's verdict on them is still checked) but
// are not compared.
var hostState = map[asm.BuiltinFunc]string{
	asm.FnFibLookup: "bpf_fib_lookup reads the host's routing and neighbour tables",
	asm.FnCheckMtu:  "bpf_check_mtu reads the host's device MTU",
}

// calls lists the helpers a program calls.
func calls(p *loader.Program) map[asm.BuiltinFunc]bool {
	fns := map[asm.BuiltinFunc]bool{}
	for _, ins := range p.Insns {
		if ins.IsBuiltinCall() {
			fns[asm.BuiltinFunc(ins.Constant)] = true
		}
	}
	return fns
}

// notCompared says why a program is not compared, or "".
func notCompared(p *loader.Program) string {
	for fn := range calls(p) {
		if why, ok := hostState[fn]; ok {
			return why
		}
	}
	return ""
}

// csumDiffProbe runs bpf_csum_diff(NULL, 0, &0x78563412, 4, 0) in the
// kernel and in the interpreter's helper. The kernel's x86 csum_partial
// used to hand back an unfolded 32-bit sum (0x78563412 here); kernels since
// the bpf_csum_diff fix of late 2024 fold it to 16 bits (0xac68), as other
// architectures always did. Programs that fold the result only once (the
// samples' csum_fold_helper) then store checksums that differ by one.
func csumDiffProbe() (kernel, interp uint32, err error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.XDP,
		Instructions: asm.Instructions{
			asm.StoreImm(asm.RFP, -8, 0x78563412, asm.Word),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -8),
			asm.Mov.Imm(asm.R1, 0),
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Imm(asm.R4, 4),
			asm.Mov.Imm(asm.R5, 0),
			asm.FnCsumDiff.Call(),
			asm.Return(),
		},
		License: "GPL",
	})
	if err != nil {
		return 0, 0, fmt.Errorf("csum_diff probe: %w", err)
	}
	defer prog.Close()
	kernel, err = prog.Run(&ebpf.RunOptions{Data: make([]byte, 64)})
	if err != nil {
		return 0, 0, fmt.Errorf("csum_diff probe: %w", err)
	}
	interp, err = emulator.CsumDiff(nil, []byte{0x12, 0x34, 0x56, 0x78}, 0)
	return kernel, interp, err
}

func fold16(v uint32) uint32 {
	v = v&0xffff + v>>16
	return v&0xffff + v>>16
}

// foldingCsumDiff is the interpreter's helper set with bpf_csum_diff
// folding its result to 16 bits, as this kernel does.
func foldingCsumDiff() emulator.HelperSet {
	hs := emulator.HelperSet{}
	for id, h := range emulator.KernelHelpers() {
		hs[id] = h
	}
	id := int32(asm.FnCsumDiff)
	orig := hs[id]
	folded := *orig
	folded.Fn = func(env *emulator.Env, mem emulator.Memory, args *[5]uint64) (uint64, error) {
		v, err := orig.Fn(env, mem, args)
		if err != nil || int64(v) < 0 {
			return v, err
		}
		return uint64(fold16(uint32(v))), nil
	}
	hs[id] = &folded
	return hs
}
