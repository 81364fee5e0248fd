package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// stackAtomicOps maps each stack atomic (32-bit form) to the ALU ops of
// its low and high words; xchg and cmpxchg have none.
var stackAtomicOps = map[ir.Op]struct{ lo, hi isa.ALUOp }{
	ir.OpAtomicAdd32: {isa.OpAdd, isa.OpAddCarry}, ir.OpAtomicFetchAdd32: {isa.OpAdd, isa.OpAddCarry},
	ir.OpAtomicOr32: {isa.OpOr, isa.OpOr}, ir.OpAtomicFetchOr32: {isa.OpOr, isa.OpOr},
	ir.OpAtomicAnd32: {isa.OpAnd, isa.OpAnd}, ir.OpAtomicFetchAnd32: {isa.OpAnd, isa.OpAnd},
	ir.OpAtomicXor32: {isa.OpXor, isa.OpXor}, ir.OpAtomicFetchXor32: {isa.OpXor, isa.OpXor},
}

// stackAtomic lowers an atomic on the stack (add/and/or/xor, their fetch
// forms, xchg, cmpxchg; 32 and 64-bit). The stack is the context's own
// local memory and a context runs until it swaps out, so a plain
// read-modify-write of the LM words is exact (the Linux JIT offloads only
// atomic add to map values; these are beyond it). The old words go to A20
// and B20 first when the op returns them: the result may share a register
// with an operand. A 64-bit add carries from the low word's add to the
// high word's +carry with only immed (which keeps the condition codes) in
// between.
func (g *gen) stackAtomic(v *ir.Value, addr int64, size int) {
	a := g.a
	if addr%int64(size) != 0 {
		g.fail(v, "%s at an unaligned stack address", v.Op)
	}
	base := v.Op
	wide := size == 8
	if wide {
		base-- // the 32-bit op precedes the 64-bit one in the table
	}
	// Both words lie in one 32-byte window (the frame is 8-aligned in LM,
	// stagingSize): the second lmWord moves no window.
	w0 := g.lmWord(v, addr, false)
	w1 := isa.None
	if wide {
		w1 = g.lmWord(v, addr+4, false)
	}
	oldLo, oldHi := isa.GPRA(regScratchA), isa.GPRB(regScratchA)
	fetch := v.Op.Info().Fetch
	if fetch {
		a.emit(isa.Mov(oldLo, w0))
		if wide {
			a.emit(isa.Mov(oldHi, w1))
		}
	}
	val := v.Args[1]
	switch base {
	case ir.OpXchg32:
		a.emit(isa.Mov(w0, g.src(val, false, right, limU)))
		if wide {
			a.emit(isa.Mov(w1, g.src(val, true, right, limU)))
		}
	case ir.OpCmpxchg32:
		// Equal to the expected value (Args[1]) in both words: store the
		// new one (Args[2]).
		skip := a.newLabel()
		a.emit(isa.ALU(isa.None, oldLo, isa.OpXor, g.src(val, false, right, limU)))
		a.branch(isa.BNE, skip, 0)
		if wide {
			a.emit(isa.ALU(isa.None, w1, isa.OpXor, g.src(val, true, right, limU)))
			a.branch(isa.BNE, skip, 0)
		}
		nv := v.Args[2]
		a.emit(isa.Mov(w0, g.src(nv, false, right, limU)))
		if wide {
			a.emit(isa.Mov(w1, g.src(nv, true, right, limU)))
		}
		a.place(skip)
	default:
		op, ok := stackAtomicOps[base]
		if !ok {
			g.fail(v, "%s on the stack is not supported", v.Op)
		}
		a.emit(isa.ALU(w0, w0, op.lo, g.src(val, false, right, limU)))
		if wide {
			a.emit(isa.ALU(w1, w1, op.hi, g.src(val, true, right, limU)))
		}
	}
	if !fetch {
		return
	}
	a.emit(isa.ALU(g.dlo(v), oldLo, isa.OpOr, isa.Imm(0)))
	if dh := g.dhi(v); !dh.IsNone() {
		if wide {
			a.emit(isa.Mov(dh, oldHi))
		} else {
			a.emit(isa.Immed(dh, 0))
		}
	}
}
