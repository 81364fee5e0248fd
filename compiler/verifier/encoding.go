package verifier

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// Encoding checks: what the kernel verifies on the raw instruction bytes
// before it interprets anything (resolve_pseudo_ldimm64's opcode table and
// ld_imm64 pairs, do_check's reserved fields of CALL, JA and EXIT,
// check_atomic's operation immediate). cilium/ebpf's decoder folds some of
// these fields into its OpCode (an atomic's immediate masked to 0x1ff, the
// offset of sdiv/smod/movsx), so the checks run on the fields as the
// kernel receives them: rawInsn re-derives them from the decoded
// instruction the way cilium/ebpf encodes it, and prefers the immediate
// the decoder kept in Constant over the folded opcode bits.

// rawInsn is one instruction's fields as encoded (struct bpf_insn).
type rawInsn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

// encodingOf gives the raw fields of a decoded instruction.
func encodingOf(ins *asm.Instruction) rawInsn {
	r := rawInsn{code: uint8(ins.OpCode), dst: uint8(ins.Dst), src: uint8(ins.Src), off: ins.Offset, imm: int32(ins.Constant)}
	op := ins.OpCode
	if op.Class().IsALU() {
		switch op.ALUOp() {
		case asm.SDiv, asm.SMod:
			r.off = 1
		case asm.MovSX8:
			r.off = 8
		case asm.MovSX16:
			r.off = 16
		case asm.MovSX32:
			r.off = 32
		}
	}
	if op.Class() == asm.StXClass && op.Mode() == asm.AtomicMode && ins.Constant == 0 {
		// Built in Go (asm.AtomicOp.Mem): the operation is only in the
		// opcode; cilium/ebpf's encoder writes it as the immediate.
		if a := op.AtomicOp(); a != asm.InvalidAtomic {
			r.imm = int32(uint32(a) >> 8)
		}
	}
	return r
}

// insnTable is the kernel's table of known opcodes (bpf_opcode_in_insntable,
// kernel/bpf/core.c, as of Linux 6.18).
var insnTable = func() (t [256]bool) {
	const (
		clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsJMP32, clsALU64 = 0, 1, 2, 3, 4, 5, 6, 7
		srcK, srcX                                                       = 0x00, 0x08
		sizeW, sizeH, sizeB, sizeDW                                      = 0x00, 0x08, 0x10, 0x18
		modeIMM, modeABS, modeIND, modeMEM, modeMEMSX, modeATOMIC        = 0x00, 0x20, 0x40, 0x60, 0x80, 0xc0
	)
	for _, cls := range []int{clsALU, clsALU64} {
		// add sub mul div or and lsh rsh mod xor mov arsh, K and X
		for _, op := range []int{0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0} {
			t[cls|op|srcK], t[cls|op|srcX] = true, true
		}
		t[cls|0x80] = true // neg
	}
	t[clsALU|0xd0|srcK], t[clsALU|0xd0|srcX] = true, true // end to le / to be
	t[clsALU64|0xd0|srcK] = true                          // bswap
	for _, cls := range []int{clsJMP, clsJMP32} {
		// jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle, K and X
		for _, op := range []int{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0} {
			t[cls|op|srcK], t[cls|op|srcX] = true, true
		}
		t[cls] = true // ja, op 0x00 (gotol in JMP32)
	}
	t[clsJMP|0x80] = true // call
	t[clsJMP|0x90] = true // exit
	t[clsJMP|0xe0] = true // jcond (may_goto)
	t[clsJMP|0xf0] = true // the kernel's internal tail call opcode is in the table too
	t[clsLD|modeIMM|sizeDW] = true
	for _, sz := range []int{sizeW, sizeH, sizeB} {
		t[clsLD|modeABS|sz], t[clsLD|modeIND|sz] = true, true
		t[clsLDX|modeMEMSX|sz] = true
	}
	for _, sz := range []int{sizeW, sizeH, sizeB, sizeDW} {
		t[clsLDX|modeMEM|sz], t[clsST|modeMEM|sz], t[clsSTX|modeMEM|sz] = true, true, true
		t[clsSTX|modeATOMIC|sz] = true // B and H only for load-acquire/store-release
	}
	return t
}()

// atomicImms are the operations check_atomic knows, by immediate.
var atomicImms = map[int32]bool{
	0x00: true, 0x01: true, // add, fetch add
	0x40: true, 0x41: true, // or
	0x50: true, 0x51: true, // and
	0xa0: true, 0xa1: true, // xor
	0xe1: true, 0xf1: true, // xchg, cmpxchg
	0x100: true, 0x110: true, // load-acquire, store-release (Linux 6.15)
}

// checkEncoding returns the kernel's message for an instruction whose
// encoding it rejects before interpretation, or "".
func checkEncoding(ins *asm.Instruction, last bool) string {
	r := encodingOf(ins)
	if !insnTable[r.code] {
		return fmt.Sprintf("unknown opcode %02x", r.code)
	}
	cls := r.code & 7
	switch {
	case r.code == 0x18: // ld_imm64
		if last {
			return "invalid bpf_ld_imm64 insn"
		}
		if r.off != 0 {
			return "BPF_LD_IMM64 uses reserved fields"
		}
		switch ins.Src {
		case 0, asm.PseudoMapFD, asm.PseudoMapValue, asm.PseudoFunc:
		default:
			return "unrecognized bpf_ld_imm64 insn"
		}
	case (cls == 5 || cls == 6) && r.code&0xf0 == 0x80: // call
		kfunc := r.src == 2
		if r.code&0x08 != 0 || !kfunc && r.off != 0 || r.src > 2 || r.dst != 0 || cls == 6 {
			return "BPF_CALL uses reserved fields"
		}
	case (cls == 5 || cls == 6) && r.code&0xf0 == 0x00: // ja, gotol
		if r.code&0x08 != 0 || r.src != 0 || r.dst != 0 || cls == 5 && r.imm != 0 || cls == 6 && r.off != 0 {
			return "BPF_JA uses reserved fields"
		}
	case (cls == 5 || cls == 6) && r.code&0xf0 == 0x90: // exit
		if r.code&0x08 != 0 || r.imm != 0 || r.src != 0 || r.dst != 0 || cls == 6 {
			return "BPF_EXIT uses reserved fields"
		}
	case cls == 3 && r.code&0xe0 == 0xc0: // atomic
		if !atomicImms[r.imm] {
			return fmt.Sprintf("BPF_ATOMIC uses invalid atomic opcode %02x", r.imm)
		}
		if ins.Constant != 0 && ins.OpCode.AtomicOp() != asm.InvalidAtomic && int32(uint32(ins.OpCode.AtomicOp())>>8) != r.imm {
			// The decoder dropped bits of the immediate: the kernel reads the
			// immediate, so that is what is checked, but the instruction
			// no longer says one thing.
			return fmt.Sprintf("BPF_ATOMIC uses invalid atomic opcode %02x", r.imm)
		}
		size := r.code & 0x18
		if r.imm < 0x100 && size != 0x00 && size != 0x18 {
			return "invalid atomic operand size"
		}
	}
	return ""
}
