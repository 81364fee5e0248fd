// Package sched rewrites the machine IR (backend/mir) after instruction
// selection, before layout: it removes compares whose condition codes the
// previous instruction already set, and moves work into branches' defer
// slots. Each step is a row of Steps, run in order, each testable from
// MIR text (testdata/*.txtar).
//
// Why: on the NFP a taken branch costs 3–4 cycles and the instructions in
// its defer slots run while it is taken (the published cycle model does
// not count them on the taken path); a compare is one cycle and one word.
package sched

import (
	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/isa"
)

// Step is one rewrite of the machine IR.
type Step struct {
	Name string
	Doc  string
	Run  func(f *mir.Func) int // returns how many rewrites it made
	// Count is the Stats field the rewrites add to.
	Count func(st *Stats) *int
}

// Steps are the scheduler's rewrites, in order.
var Steps = []Step{
	{"lmfill", "move independent words before an LM pointer write into the nops that wait for it", LMFill,
		func(st *Stats) *int { return &st.LMFilled }},
	{"flags", "drop `alu[--, r, XOR|OR, 0]` before beq/bne when the previous instruction set Z from r", Flags,
		func(st *Stats) *int { return &st.Compares }},
	{"defer", "move the instructions before an unconditional branch into its defer slots", Defer,
		func(st *Stats) *int { return &st.Filled }},
	{"memhoist", "move independent words after a blocking memory command before it, keeping the next command's gap", MemHoist,
		func(st *Stats) *int { return &st.Hoisted }},
}

// Stats count what the scheduler did.
type Stats struct {
	Compares int // compares removed (flags)
	Filled   int // defer slots filled
	LMFilled int // LM pointer waits filled (lmfill)
	Hoisted  int // words moved before memory commands (memhoist)
}

// Run applies every step.
func Run(f *mir.Func) Stats {
	var st Stats
	for _, s := range Steps {
		*s.Count(&st) += s.Run(f)
	}
	return st
}

// movable reports whether a word may run in a branch's defer slot: the
// one-cycle ALU-class instructions the Linux JIT also puts there. Memory
// commands (they may swap the context), CSR writes and branches stay put;
// so do words that take part of their input from the previous instruction
// (an indirect shift amount, a carry).
func movable(it *mir.Instr) bool {
	if it.Kind != mir.Plain || it.Reloc != 0 {
		return false
	}
	switch in := it.In.(type) {
	case isa.ALUInstr:
		return in.Op != isa.OpAddCarry && in.Op != isa.OpSubCarry && aluSimple(in.Op)
	case isa.ShfInstr:
		_, ind := in.Amount()
		return !ind
	case isa.LdFieldInstr:
		_, ind := in.Amount()
		return !ind
	case isa.ImmedInstr:
		return true
	}
	return false
}

// aluSimple lists the ALU operations without side effects beyond their
// destination and the condition codes.
func aluSimple(op isa.ALUOp) bool {
	switch op {
	case isa.OpB, isa.OpAdd, isa.OpNotB, isa.OpAdd16, isa.OpAnd, isa.OpAdd8, isa.OpNotAAndB,
		isa.OpAndNotB, isa.OpOr, isa.OpSub, isa.OpXor, isa.OpBMinusA:
		return true
	}
	return false
}
