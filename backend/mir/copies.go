package mir

import "github.com/nfpcc/nfpcc/isa"

// DropSelfCopies deletes, from f (w's function after Rewrite), the moves
// `alu[gprX_n, --, B, gprX_n]` that register allocation leaves when it
// gives a copy's source and destination one register, and the moves
// `alu[gprA_n, --, B, gprB_n], gpr_wrboth` where both halves of register
// n already hold one value (equalHalves): the word changes nothing but
// the condition codes and the previous-ALU latch, so it goes only where
// neither is read before being set again, and never from a defer slot
// (the branch counts its slots). Nor from the words after a CSR write that
// selection counted as its wait. It returns how many it deleted.
func (w *Webs) DropSelfCopies(f *Func) int {
	type cand struct {
		i, num int
		both   bool
	}
	var cands []cand
	for i := range f.Instrs {
		if num, both, ok := selfCopy(&f.Instrs[i]); ok {
			cands = append(cands, cand{i, num, both})
		}
	}
	if len(cands) == 0 {
		return 0
	}
	fl := w.fl
	slot, eq, pred := f.DeferSlots(), equalHalves(f, fl), predecessors(fl)
	del := make([]bool, len(f.Instrs))
	n := 0
	for _, c := range cands {
		i := c.i
		if c.both && eq[i]>>uint(c.num)&1 == 0 {
			continue
		}
		if slot[i] || !f.ccDeadAfter(i) || f.csrWindow(i, pred) || f.latchReadAfter(i, fl) {
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

// equalHalves is, for each word, the register numbers whose A and B
// halves hold one value on entry to it: a must-analysis forward over the
// flow graph. A gpr_wrboth write makes its register's halves equal, any
// write to one half (and anything a helper call clobbers) unequal;
// nothing is known on entry to the function or to code only the firmware
// enters.
func equalHalves(f *Func, fl *flow) []uint32 {
	n := len(f.Instrs)
	in := make([]uint32, n)
	reached := make([]bool, n)
	if n == 0 {
		return in
	}
	reached[0] = true
	// Per word: the registers it writes to both banks (gen) and those it
	// makes unequal (kill: a one-bank write, a helper's clobber, a word
	// not modelled).
	gen, kill := make([]uint32, n), make([]uint32, n)
	var buf []isa.GPRRef
	for i := range f.Instrs {
		refs, err := instrRefs(buf[:0], &f.Instrs[i])
		buf = refs
		if err != nil {
			kill[i] = ^uint32(0)
			continue
		}
		for _, r := range refs {
			switch {
			case !r.Write:
			case r.Bank == isa.BankBoth:
				gen[i] |= 1 << uint(r.Num)
			default:
				kill[i] |= 1 << uint(r.Num)
			}
		}
		d := fl.after[i].Defs
		kill[i] |= uint32(d) | uint32(d>>32)
	}
	out := func(i int) uint32 { return (in[i] | gen[i]) &^ kill[i] }
	for changed := true; changed; {
		changed = false
		for i := 0; i < n; i++ {
			if !reached[i] {
				continue
			}
			o := out(i)
			for _, s := range fl.succ[i] {
				switch {
				case !reached[s]:
					reached[s], in[s], changed = true, o, true
				case in[s]&o != in[s]:
					in[s] &= o
					changed = true
				}
			}
		}
	}
	return in
}

// csrWindow reports whether word i may be one of the three words that
// must follow a local_csr_wr before its effect (an LM pointer) is used:
// selection counts them (padding with nops), so deleting one would make
// a later access see the old pointer. Every path into i is followed back
// three words (pred).
func (f *Func) csrWindow(i int, pred [][]int32) bool {
	front := []int32{int32(i)}
	for depth := 0; depth < 3; depth++ {
		var next []int32
		for _, k := range front {
			for _, p := range pred[k] {
				if c, ok := f.Instrs[p].In.(isa.CSRInstr); ok && f.Instrs[p].Kind == Plain && c.Write {
					return true
				}
				next = append(next, p)
			}
		}
		front = next
	}
	return false
}

// predecessors inverts the flow graph.
func predecessors(fl *flow) [][]int32 {
	pred := make([][]int32, len(fl.succ))
	for i, ss := range fl.succ {
		for _, s := range ss {
			pred[s] = append(pred[s], int32(i))
		}
	}
	return pred
}

// selfCopy reports a move of a register to itself: in one bank, or from
// one half to both (both; deletable only where the halves are equal). num
// is the register.
func selfCopy(it *Instr) (num int, both, ok bool) {
	if it.Kind != Plain || it.Reloc != 0 {
		return 0, false, false
	}
	alu, isALU := it.In.(isa.ALUInstr)
	if !isALU || alu.Op != isa.OpB {
		return 0, false, false
	}
	refs, refsOK := isa.GPRs(alu)
	if !refsOK || len(refs) != 2 {
		return 0, false, false
	}
	r, w := refs[0], refs[1]
	if !r.Read || !w.Write || r.Num != w.Num {
		return 0, false, false
	}
	return r.Num, w.Bank == isa.BankBoth, w.Bank == isa.BankBoth || r.Bank == w.Bank
}

// ccDeadAfter reports whether the condition codes word i sets are set
// again before anything reads them, on the path after it (other paths
// joining at a label do not matter; an unconditional local branch is
// followed; any other branch or a long stretch: not known, so live).
func (f *Func) ccDeadAfter(i int) bool {
	j := i + 1
	for steps := 0; j < len(f.Instrs) && steps < 8; steps++ {
		it := &f.Instrs[j]
		j++
		if it.Kind == Branch && it.Reloc == 0 && it.Cond == isa.BR && it.Defer == 0 {
			// An unconditional local branch reads nothing: on at its
			// target.
			if t := int(it.Target); t >= 0 && t < len(f.Labels) && f.Labels[t] >= 0 {
				j = f.Labels[t]
				continue
			}
			return false
		}
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

// latchReadAfter reports whether the next word to update or read the
// previous-ALU latch after word i, on some path, reads it: branches leave
// the latch alone, so they are followed.
func (f *Func) latchReadAfter(i int, fl *flow) bool {
	seen := map[int32]bool{}
	front := fl.succ[i]
	for steps := 0; len(front) > 0; steps++ {
		if steps == 8 {
			return true
		}
		var next []int32
		for _, w := range front {
			if seen[w] {
				continue
			}
			seen[w] = true
			it := &f.Instrs[w]
			if it.Kind == Branch {
				next = append(next, fl.succ[w]...)
				continue
			}
			if ReadsPrevALU(it) {
				return true
			}
		}
		front = next
	}
	return false
}

// ReadsPrevALU reports a word that takes an operand from the previous ALU
// instruction (nfp-isa.md §1.6: an indirect shift amount, asr's sign, an
// indirect_ref override). The scheduler and move deletion both keep such a
// word right after the word it reads.
func ReadsPrevALU(it *Instr) bool {
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
