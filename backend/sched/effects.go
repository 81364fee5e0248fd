package sched

import (
	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/isa"
)

// effects are what one word reads and writes, as far as moving it past
// other words is concerned. Words the scheduler does not reason about
// (branches, CSR reads, multiplies) are barriers.
type effects struct {
	reads, writes      []isa.Operand
	readsCC, writesCC  bool
	readsPrev, barrier bool
}

// lmPointer is the pseudo-operand a local_csr_wr of ActLMAddrN writes:
// the pointer itself (Off -1), which LM operands through it read.
func lmPointer(n int) isa.Operand { return isa.Operand{Kind: isa.KLM, Index: n, Off: -1} }

func effectsOf(it *mir.Instr) effects {
	var e effects
	if it.Kind != mir.Plain || it.Reloc != 0 {
		e.barrier = true
		return e
	}
	const m = isa.Ctx4
	// An indirect shift, asr or indirect_ref takes part of its input
	// from the previous ALU instruction.
	e.readsPrev = mir.ReadsPrevALU(it)
	switch in := it.In.(type) {
	case isa.ALUInstr:
		l, r := in.Sources(m)
		e.reads = []isa.Operand{l, r}
		e.writes = []isa.Operand{in.Dest(m)}
		e.writesCC = in.Flags&isa.FlagNoCC == 0
		e.readsCC = in.Op == isa.OpAddCarry || in.Op == isa.OpSubCarry
		e.barrier = !aluSimple(in.Op) && !e.readsCC
	case isa.ShfInstr:
		l, r := in.Sources(m)
		e.reads = []isa.Operand{l, r}
		e.writes = []isa.Operand{in.Dest(m)}
		e.writesCC = in.Flags&isa.FlagNoCC == 0
		e.barrier = in.Op == isa.ShfByteAlign
	case isa.LdFieldInstr:
		d, s := in.Operands(m)
		e.reads = []isa.Operand{s}
		if !in.Clear {
			e.reads = append(e.reads, d)
		}
		e.writes = []isa.Operand{d}
		e.writesCC = in.LoadCC
	case isa.ImmedInstr:
		if !in.IsNop() {
			e.writes = []isa.Operand{in.Dest(m)}
			if in.Width != isa.WidthAll {
				// immed_wN / immed_bN replace a part: the rest is read.
				e.reads = e.writes
			}
		}
	case isa.CSRInstr:
		n, ok := lmPointerWrite(it)
		if !ok {
			e.barrier = true
			break
		}
		e.reads = []isa.Operand{in.Source(m)}
		e.writes = []isa.Operand{lmPointer(n)}
	case isa.CmdInstr:
		// Its address operands, and the transfer registers (all of them:
		// the count is in words or bytes, and indirect_ref may override
		// it).
		a, b := in.Operands(m)
		e.reads = []isa.Operand{a, b, allXfer}
		e.writes = []isa.Operand{allXfer}
	default:
		e.barrier = true
	}
	return e
}

// allXfer stands for every transfer register.
var allXfer = isa.Operand{Kind: isa.KXfer, Num: -1}

// dependent reports whether two words touch one location and at least one
// of them writes it: then they may not change order.
func dependent(x, y effects) bool {
	return conflict(x.writes, y.reads) || conflict(x.writes, y.writes) || conflict(x.reads, y.writes)
}

// conflict reports whether an operand of a touches one of b: the same
// GPR in an overlapping bank, the same transfer register, an LM word
// (any two real LM accesses may alias: the pointers are windows onto one
// memory) or an LM pointer and an access through it. Unknown kinds
// conflict.
func conflict(a, b []isa.Operand) bool {
	for _, x := range a {
		for _, y := range b {
			if touch(x, y) {
				return true
			}
		}
	}
	return false
}

func touch(x, y isa.Operand) bool {
	if x.Kind == isa.KNone || y.Kind == isa.KNone || x.Kind == isa.KImm || y.Kind == isa.KImm {
		return false
	}
	if x.Kind != y.Kind {
		return !known(x) || !known(y)
	}
	switch x.Kind {
	case isa.KGPR:
		return x.Num == y.Num && (x.Bank == y.Bank || x.Bank == isa.BankBoth || y.Bank == isa.BankBoth)
	case isa.KXfer:
		return x.Num == y.Num || x.Num < 0 || y.Num < 0
	case isa.KLM:
		if x.Off < 0 || y.Off < 0 {
			return x.Index == y.Index // the pointer and an access through it
		}
		return true
	}
	return true
}

// known are the operand kinds touch tells apart.
func known(o isa.Operand) bool {
	switch o.Kind {
	case isa.KGPR, isa.KXfer, isa.KLM:
		return true
	}
	return false
}
