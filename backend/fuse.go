package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// Shift fusion: alu_shf applies a shift to its B operand before the logic
// operation, so `(x << 8) | y` — how a big-endian field is put together
// from bytes — is one word, `alu_shf[d, y, OR, x, <<8]`, instead of a shift
// and an OR. A shift by a constant whose only use is one OR or AND (32
// bits, or 64 bits with every value's upper half zero) is not computed on
// its own (kFused); the OR or AND reads the shift's operand (fusedShift).

// fuseOps are the logic operations alu_shf has.
var fuseOps = map[ir.Op]isa.ShfOp{
	ir.OpOr32: isa.ShfOr, ir.OpOr64: isa.ShfOr, ir.OpAnd32: isa.ShfAnd, ir.OpAnd64: isa.ShfAnd,
}

// fusible is a shift fusion can take: by a constant 1–31, logical, of a
// value in a register, the result's upper half zero for 64-bit shifts
// (so the low word is the operand's low word shifted).
func (g *gen) fusible(s *ir.Value) (isa.ShiftCtl, int, bool) {
	var sc isa.ShiftCtl
	switch s.Op {
	case ir.OpLsh32, ir.OpLsh64:
		sc = isa.ShiftL
	case ir.OpRsh32, ir.OpRsh64:
		sc = isa.ShiftR
	default:
		return 0, 0, false
	}
	n, ok := g.constant(s.Args[1], false)
	x := g.info[g.rootOf(s.Args[0]).ID]
	if !ok || n == 0 || n > 31 || g.info[s.ID].kind != kReg || x.kind != kReg {
		return 0, 0, false
	}
	if s.Op == ir.OpLsh64 || s.Op == ir.OpRsh64 {
		if !g.info[s.ID].hiZero || !x.hiZero {
			return 0, 0, false
		}
	}
	return sc, int(n), true
}

// fusion is a shift an OR/AND applies itself: the shift, its control and
// amount.
type fusion struct {
	s  *ir.Value
	sc isa.ShiftCtl
	n  int
}

// fuseShifts finds the shifts to fuse and marks them kFused; g.fused maps
// each OR/AND to its fusion.
func (g *gen) fuseShifts() {
	uses := make([]int, g.f.NumValues())
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			for _, a := range v.Args {
				uses[a.ID]++
			}
			for _, t := range v.Targets {
				for _, a := range t.Args {
					uses[a.ID]++
				}
			}
		}
	}
	g.fused = map[*ir.Value]fusion{}
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			if _, ok := fuseOps[v.Op]; !ok || g.info[v.ID].kind != kReg {
				continue
			}
			if (v.Op == ir.OpOr64 || v.Op == ir.OpAnd64) && !g.info[v.ID].hiZero {
				continue
			}
			for k := 1; k >= 0; k-- { // prefer the right operand's shift
				s, o := v.Args[k], v.Args[1-k]
				if uses[s.ID] != 1 || s == o {
					continue
				}
				sc, n, ok := g.fusible(s)
				if !ok {
					continue
				}
				if oi := g.info[g.rootOf(o).ID]; oi.kind != kReg && oi.kind != kConst {
					continue
				}
				g.fused[v] = fusion{s, sc, n}
				g.info[s.ID].kind = kFused
				break
			}
		}
	}
}

// fusedShift lowers an OR or AND whose operand is a fused shift.
func (g *gen) fusedShift(v *ir.Value) bool {
	fu, ok := g.fused[v]
	if !ok {
		return false
	}
	o := v.Args[0]
	if o == fu.s {
		o = v.Args[1]
	}
	a := g.src(o, false, left, limU)
	b := g.src(fu.s.Args[0], false, right, limU)
	a = g.notBothImm(a, b)
	g.a.emit(isa.Shf(g.dlo(v), a, fuseOps[v.Op], b, fu.sc, fu.n))
	if dh := g.dhi(v); !dh.IsNone() {
		g.a.emit(isa.Immed(dh, 0))
	}
	return true
}
