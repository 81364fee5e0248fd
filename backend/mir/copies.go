package mir

import "github.com/nfpcc/nfpcc/isa"

// DropSelfCopies deletes the moves `alu[gprX_n, --, B, gprX_n]` that
// register allocation leaves when it gives a copy's source and destination
// one register: the word changes nothing but the condition codes and the
// previous-ALU latch, so it goes only where neither is read before being
// set again, and never from a defer slot (the branch counts its slots).
// Nor from the words after a CSR write that selection counted as its wait.
// It returns how many it deleted.
func (f *Func) DropSelfCopies() int {
	slot := f.DeferSlots()
	at := f.LabelsAt()
	del := make([]bool, len(f.Instrs))
	n := 0
	for i := range f.Instrs {
		if slot[i] || !selfCopy(&f.Instrs[i]) || !f.ccDeadAfter(i) || f.csrWindow(i, at) {
			continue
		}
		if i+1 < len(f.Instrs) && readsLatch(&f.Instrs[i+1]) {
			continue
		}
		del[i] = true
		n++
	}
	if n > 0 {
		f.Delete(del)
	}
	return n
}

// csrWindow reports whether word i may be one of the three words that
// must follow a local_csr_wr before its effect (an LM pointer) is used:
// selection counts them (padding with nops), so deleting one would make
// a later access see the old pointer. A label in the window hides what
// came before on the other paths: then it counts as a window too.
func (f *Func) csrWindow(i int, at []bool) bool {
	for k := i; k > i-3; k-- {
		if at[k] || k == 0 {
			return at[k]
		}
		if p := &f.Instrs[k-1]; p.Kind == Plain {
			if c, ok := p.In.(isa.CSRInstr); ok && c.Write {
				return true
			}
		}
	}
	return false
}

// selfCopy reports a move of a register to itself in one bank.
func selfCopy(it *Instr) bool {
	if it.Kind != Plain || it.Reloc != 0 {
		return false
	}
	alu, ok := it.In.(isa.ALUInstr)
	if !ok || alu.Op != isa.OpB {
		return false
	}
	refs, ok := isa.GPRs(alu)
	if !ok || len(refs) != 2 {
		return false
	}
	r, w := refs[0], refs[1]
	return r.Read && w.Write && w.Bank != isa.BankBoth && r.Bank == w.Bank && r.Num == w.Num
}

// ccDeadAfter reports whether the condition codes word i sets are set
// again before anything reads them, on the straight line after it (other
// paths joining at a label do not matter; a branch or a long stretch: not
// known, so live).
func (f *Func) ccDeadAfter(i int) bool {
	for j := i + 1; j < len(f.Instrs) && j <= i+8; j++ {
		it := &f.Instrs[j]
		if it.Kind != Plain {
			return false
		}
		switch in := it.In.(type) {
		case isa.ALUInstr:
			if in.Op == isa.OpAddCarry || in.Op == isa.OpSubCarry {
				return false
			}
			if in.Flags&isa.FlagNoCC == 0 {
				return true
			}
		case isa.ShfInstr:
			if in.Flags&isa.FlagNoCC == 0 {
				return true
			}
		case isa.LdFieldInstr:
			if in.LoadCC {
				return true
			}
		case isa.ImmedInstr, isa.CmdInstr, isa.CSRInstr:
		default:
			return false
		}
	}
	return false
}

// readsLatch reports a word that takes an operand from the previous ALU
// instruction (an indirect shift amount, asr's sign, an indirect_ref
// override).
func readsLatch(it *Instr) bool {
	if it.Kind != Plain {
		return false
	}
	switch in := it.In.(type) {
	case isa.ShfInstr:
		// asr fills with the previous result's sign (nfp-isa.md §1.6).
		_, ind := in.Amount()
		return ind || in.Op == isa.ShfAsr
	case isa.LdFieldInstr:
		_, ind := in.Amount()
		return ind
	case isa.CmdInstr:
		return in.Indirect
	}
	return false
}
