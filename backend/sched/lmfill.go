package sched

import (
	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/isa"
)

// maxLift is how far back LMFill looks for a word to move: the few words
// that build the new pointer and the work just before them.
const maxLift = 8

// LMFill fills the nops selection puts after a local_csr_wr of an LM
// pointer (its value takes effect three instructions later, nfp-isa.md)
// with words from before the write that do not depend on it: the word
// moves down past the pointer's computation and the write into the first
// nop, which goes. The words still run before the first use of the new
// pointer, in an order their operands allow: the moved word neither reads
// nor writes what the words it passes write or read, touches no LM through
// the pointer being changed, and is a one-cycle ALU-class word that takes
// nothing from the previous instruction (carry, indirect amounts); its
// condition codes are dead where it stood (the next word sets them), so it
// moves with no_cc. No word moves across a label, and a nop a label names
// stays (code jumping there expects the wait); nops and words within four
// words after another CSR access never move (that would shorten its wait).
func LMFill(f *mir.Func) int {
	n := 0
	at, slot := f.LabelsAt(), f.DeferSlots() // again after each move
	for i := 0; i < len(f.Instrs); i++ {
		idx, ok := lmPointerWrite(&f.Instrs[i])
		if !ok {
			continue
		}
		for {
			nop := -1
			for k := i + 1; k <= i+3 && k < len(f.Instrs); k++ {
				if isFiller(&f.Instrs[k]) {
					nop = k
					break
				}
			}
			if nop < 0 || at[nop] || slot[nop] {
				break
			}
			if end := nopsEnd(f, nop); end < len(f.Instrs) && readsPrev(&f.Instrs[end]) {
				break // the first use takes the previous ALU result
			}
			j := liftable(f, i, nop, idx, at, slot)
			if j < 0 {
				break
			}
			x := f.Instrs[j]
			if lmHazard(f, nop, &x) {
				break // (an earlier pointer write's wait also covers this slot)
			}
			x.In = noCC(x.In)
			f.Instrs[nop] = x
			del := make([]bool, len(f.Instrs))
			del[j] = true
			f.Delete(del)
			at, slot = f.LabelsAt(), f.DeferSlots()
			i-- // the write moved up one word
			n++
		}
	}
	return n
}

// nopsEnd is the index of the first word after the nops starting at i.
func nopsEnd(f *mir.Func, i int) int {
	for i < len(f.Instrs) && isFiller(&f.Instrs[i]) {
		i++
	}
	return i
}

// liftable finds the nearest word before the pointer write at w that may
// move past it and the words already moved after it, to nop (see LMFill),
// or -1.
func liftable(f *mir.Func, w, nop, idx int, at, slot []bool) int {
	for j := w - 1; j >= 0 && j >= w-maxLift; j-- {
		it := &f.Instrs[j]
		if it.Kind != mir.Plain || slot[j] || j > 0 && isCSR(&f.Instrs[j-1]) {
			return -1 // a branch or defer slot ends the block's straight line
		}
		if at[j+1] {
			return -1 // the words it would pass start at a label
		}
		// A nop is time, not work; a word within an earlier pointer
		// write's wait must stay, or the wait shrinks.
		if isFiller(it) || csrNear(f, j) {
			continue
		}
		if movable(it) && !readsPrev(it) && !usesLM(it, idx) && deadCC(f, j) && independent(f, j, nop-1) {
			return j
		}
	}
	return -1
}

// deadCC reports whether the condition codes word j sets (if any) are
// overwritten by the next word before anything reads them.
func deadCC(f *mir.Func, j int) bool {
	e := effectsOf(&f.Instrs[j])
	if !e.writesCC {
		return true
	}
	n := effectsOf(&f.Instrs[j+1])
	return n.writesCC && !n.readsCC
}

// independent reports whether word j may run after words j+1..w instead
// of before them.
func independent(f *mir.Func, j, w int) bool {
	x := effectsOf(&f.Instrs[j])
	for k := j + 1; k <= w; k++ {
		c := effectsOf(&f.Instrs[k])
		if c.barrier || c.readsCC && x.writesCC || c.readsPrev {
			return false
		}
		if dependent(x, c) {
			return false
		}
	}
	return true
}

// lmPointerWrite reports a local_csr_wr of ActLMAddrN and its N.
func lmPointerWrite(it *mir.Instr) (int, bool) {
	in, ok := it.In.(isa.CSRInstr)
	if it.Kind != mir.Plain || !ok || !in.Write {
		return 0, false
	}
	n := isa.LMPointerCSR(int(in.CSR))
	return n, n >= 0
}

// lmHazard reports whether word it, placed at index pos, would use an LM
// pointer written by one of the four words before pos (the new value
// takes effect three instructions later), or sit between local_csr_rd
// and the immed that receives its value.
func lmHazard(f *mir.Func, pos int, it *mir.Instr) bool {
	if pos > 0 && isCSR(&f.Instrs[pos-1]) && !isPointerWrite(&f.Instrs[pos-1]) {
		return true
	}
	for k := pos - 1; k >= 0 && k >= pos-4; k-- {
		if idx, ok := lmPointerWrite(&f.Instrs[k]); ok && usesLM(it, idx) {
			return true
		}
	}
	return false
}

func isPointerWrite(it *mir.Instr) bool {
	_, ok := lmPointerWrite(it)
	return ok
}

// isFiller is the nop selection pads the pointer's latency with.
func isFiller(it *mir.Instr) bool {
	in, ok := it.In.(isa.ImmedInstr)
	return it.Kind == mir.Plain && ok && in.IsNop()
}

// usesLM reports an LM operand through pointer idx.
func usesLM(it *mir.Instr, idx int) bool {
	e := effectsOf(it)
	for _, o := range append(e.reads, e.writes...) {
		if o.Kind == isa.KLM && o.Index == idx {
			return true
		}
	}
	return false
}

// readsPrev reports a word that takes part of its input from the previous
// ALU instruction (carry, an indirect shift amount, asr's sign, an
// indirect_ref command's override).
func readsPrev(it *mir.Instr) bool {
	e := effectsOf(it)
	return e.readsPrev || e.readsCC || e.barrier
}

// noCC returns in with its condition-code write suppressed.
func noCC(in isa.Instr) isa.Instr {
	switch x := in.(type) {
	case isa.ALUInstr:
		x.Flags |= isa.FlagNoCC
		return x
	case isa.ShfInstr:
		x.Flags |= isa.FlagNoCC
		return x
	}
	return in
}
