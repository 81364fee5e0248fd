package backend

import (
	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// label names a code address that is known only once everything is laid
// out: a block's first word, a branch trampoline, the outro.
type label = mir.Label

// asm is instruction selection's view of the machine IR it builds: it
// appends words to a mir.Func, tagging each with the eBPF slot being
// lowered, and keeps the LM pointer's latency (nfp-isa.md §1.5).
type asm struct {
	f  mir.Func
	pc int // the eBPF slot of the instruction being lowered
	// lmReady is the first word at which a pending ActLMAddr write is in
	// effect (3 instructions after local_csr_wr); settle fills the gap
	// with nops before a use, a label or a branch, so other work can take
	// the slots first.
	lmReady int
}

// lmWrite records that an ActLMAddr write was just emitted.
func (a *asm) lmWrite() { a.lmReady = len(a.f.Instrs) + 3 }

// settle makes the last ActLMAddr write take effect.
func (a *asm) settle() {
	for len(a.f.Instrs) < a.lmReady {
		a.f.Append(mir.Instr{In: isa.Nop(), PC: a.pc})
	}
}

func (a *asm) newLabel() label { return a.f.NewLabel() }

func (a *asm) place(l label) {
	a.settle()
	a.f.Place(l)
}

func (a *asm) emit(ins ...isa.Instr) {
	for _, in := range ins {
		a.f.Append(mir.Instr{In: in, PC: a.pc})
	}
}

// branch emits b<cond>[l].
func (a *asm) branch(c isa.Cond, l label, defer_ int) {
	a.settle()
	a.f.Append(mir.Instr{Kind: mir.Branch, Cond: c, Target: l, Defer: defer_, PC: a.pc})
}

// reloc emits a branch whose target the loader fixes (exit, abort, helper).
func (a *asm) reloc(c isa.Cond, kind image.RelocKind, lbl label, value uint32, defer_ int) {
	if kind != image.RelocBrHelper {
		// The firmware's helpers run long after: pending writes are in
		// effect for them.
		a.settle()
	}
	a.f.Append(mir.Instr{Kind: mir.Branch, Cond: c, Reloc: kind, RelLbl: lbl, Value: value, Defer: defer_, PC: a.pc, Target: -1})
}

// immedRel emits immed[dst, address of l] with a RELO_IMMED_REL relocation
// (a return address the firmware jumps to).
func (a *asm) immedRel(dst isa.Operand, l label) {
	a.f.Append(mir.Instr{Kind: mir.ImmedRel, Dst: dst, Target: l, PC: a.pc})
}
