package ebpf

import (
	"fmt"
	"math/bits"

	"github.com/nfpcc/nfpcc/emulator"
)

// checkInit rejects a program that may read a register before writing it,
// as the kernel verifier does ("R0 !read_ok"): a forward must-be-written
// analysis over all paths. At the entry r1 (the context, or the memory
// pointer) and r10 are written, and for HookNone also r2 (the memory
// length, which the conformance harness passes). A subprogram starts with
// r1–r5 and r10. A helper or BPF-to-BPF call writes r0 (unless the helper
// returns void) and, as in the kernel, leaves r1–r5 unreadable.
func checkInit(d *decoded, hook emulator.Hook) error {
	n := len(d.code)
	const argRegs = uint16(0b111110)
	state := make([]uint16, n)
	seen := make([]bool, n)
	var work []int
	push := func(pc int, s uint16) {
		if pc < 0 || pc >= n {
			return
		}
		if !seen[pc] {
			seen[pc], state[pc] = true, s
			work = append(work, pc)
		} else if state[pc]&s != state[pc] {
			state[pc] &= s
			work = append(work, pc)
		}
	}
	entry := uint16(1<<1 | 1<<10)
	if hook == emulator.HookNone {
		entry |= 1 << 2
	}
	push(0, entry)
	for pc := range d.code {
		if d.code[pc].op == opCallPC {
			push(int(d.code[pc].off), argRegs|1<<10)
		}
	}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		in := &d.code[pc]
		s := state[pc]
		reads, writes := regUse(in)
		if miss := reads &^ s; miss != 0 {
			r := bits.TrailingZeros16(miss)
			return &LoadError{PC: pc, Insn: d.text.at(pc), Msg: fmt.Sprintf("r%d is read before it is written (uninitialized register)", r)}
		}
		s |= writes
		switch {
		case in.op == opExit:
		case in.op == opJA:
			push(int(in.off), s)
		case in.op == opCall && voidHelpers[d.helpers[in.imm].ID]:
			push(pc+1, s&^argRegs&^1) // returns nothing: r0 stays unreadable
		case in.op == opCall || in.op == opCallX || in.op == opCallPC:
			push(pc+1, (s&^argRegs)|1)
		case in.op == opLdImm64:
			push(pc+2, s)
		case in.op >= opFirstGenerated && isJump(in.op):
			push(int(in.off), s)
			push(pc+1, s)
		default:
			push(pc+1, s)
		}
	}
	return nil
}

// voidHelpers are the helpers the kernel declares RET_VOID: after them r0
// is not readable ("R0 !read_ok" at an exit that follows a tail call).
var voidHelpers = map[int32]bool{
	emulator.FnTailCall: true, emulator.FnRingbufSubmit: true, emulator.FnRingbufDiscard: true,
}

// regUse is the set of registers an instruction reads and writes.
func regUse(in *inst) (reads, writes uint16) {
	d, s := uint16(1)<<(in.dst&15), uint16(1)<<(in.src&15)
	switch o := in.op; {
	case o == opLdImm64:
		return 0, d
	case o == opNeg64, o == opNeg32, o >= opLE16 && o <= opBE64:
		return d, d
	case o >= opMovSX8to64 && o <= opMovSX16to32:
		return s, d
	case o == opExit:
		return 1, 0
	case o == opJA, o == opCall, o == opCallPC:
		return 0, 1
	case o == opCallX:
		return d, 1
	case o >= opLdxB && o <= opLdxSW:
		return s, d
	case o >= opStB && o <= opStDW:
		return d, 0
	case o >= opStxB && o <= opStxDW:
		return d | s, 0
	case o == opAtomic32 || o == opAtomic64:
		switch in.imm {
		case atomicCmpXchg:
			return d | s | 1, 1
		default:
			if in.imm&atomicFetch != 0 {
				return d | s, s
			}
			return d | s, 0
		}
	case o >= opLdAbsB && o <= opLdAbsW:
		return 0, 1
	case o >= opLdIndB && o <= opLdIndW:
		return s, 1
	case o >= opFirstGenerated && isJump(o):
		if (o-opJeq64Imm)%2 == 1 {
			return d | s, 0
		}
		return d, 0
	case o >= opFirstGenerated:
		reg := (o-opFirstGenerated)%2 == 1
		isMov := o >= opMov64Imm && o <= opMov32Reg
		switch {
		case isMov && reg:
			return s, d
		case isMov:
			return 0, d
		case reg:
			return d | s, d
		default:
			return d, d
		}
	}
	return 0, 0
}
