package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

type side uint8

const (
	left  side = iota // the A field: bank-A register, scratch A20
	right             // the B field: bank-B register, scratch B21
)

// Inline immediate limits: unrestricted operands (alu, immed) take 0–255,
// restricted ones without the I8 bit (commands) 0–127.
const (
	limU = 0xff
	limR = 0x7f
)

func (g *gen) reg(r int, s side) isa.Operand {
	if s == left {
		return isa.GPRA(r)
	}
	return isa.GPRB(r)
}

func (g *gen) scratch(s side) isa.Operand {
	if s == left {
		return isa.GPRA(regScratchA)
	}
	return isa.GPRB(regScratchB)
}

// constant returns v's compile-time value of one half, if it has one.
func (g *gen) constant(v *ir.Value, hi bool) (uint32, bool) {
	in := g.info[g.rootOf(v).ID]
	if hi && g.info[v.ID].hiZero {
		return 0, true
	}
	switch in.kind {
	case kConst:
		if hi {
			return uint32(in.c >> 32), true
		}
		return uint32(in.c), true
	case kMapValue:
		if hi {
			return uint32(0x80+in.c) << 24, true
		}
		return uint32(in.off), true
	case kStack:
		if hi {
			return 0, true
		}
	}
	return 0, false
}

// src returns an operand holding one half of v for side s, emitting what
// is needed to build it in the side's scratch register.
func (g *gen) src(v *ir.Value, hi bool, s side, lim uint32) isa.Operand {
	r := g.rootOf(v)
	in := g.info[r.ID]
	if c, ok := g.constant(v, hi); ok {
		if c <= lim {
			return isa.Imm(c)
		}
		g.a.emit(isa.LoadImm32(g.scratch(s), c)...)
		return g.scratch(s)
	}
	switch in.kind {
	case kReg:
		if in.spilled {
			off := in.slot
			if hi {
				off += 4
			}
			return g.lmWord(v, off, false)
		}
		if hi {
			return g.reg(in.hi, s)
		}
		return g.reg(in.lo, s)
	case kStack:
		addr := g.frame + in.off
		if addr < 0 || addr > image.MaxStack {
			g.fail(v, "stack address fp%+d outside the frame", in.off)
		}
		g.stackAddr(g.scratch(s), addr)
		return g.scratch(s)
	case kCtx:
		g.fail(v, "the context pointer v%d is used as a value (only its data/data_end fields are supported)", v.ID)
	case kMapRef:
		g.fail(v, "the map pointer v%d is used other than as a helper's map argument", v.ID)
	}
	g.fail(v, "BUG: v%d has no location", v.ID)
	return isa.None
}

// stackAddr computes the LM byte address A22 + addr into dst.
func (g *gen) stackAddr(dst isa.Operand, addr int64) {
	if addr <= limU {
		g.a.emit(isa.ALU(dst, isa.GPRA(regStack), isa.OpAdd, isa.Imm(uint32(addr))))
		return
	}
	tmp := isa.GPRB(regScratchA) // B20: free while dst is being built
	if dst.Bank == isa.BankB {
		tmp = dst
	}
	g.a.emit(isa.Immed(tmp, uint32(addr)), isa.ALU(dst, isa.GPRA(regStack), isa.OpAdd, tmp))
}

// alu emits alu[dst, l, op, r], first moving l to A20 if both are
// immediates (immed leaves the condition codes alone).
func (g *gen) alu(dst, l isa.Operand, op isa.ALUOp, r isa.Operand) {
	if l.IsImm() && r.IsImm() {
		g.a.emit(isa.Immed(isa.GPRA(regScratchA), l.Value))
		l = isa.GPRA(regScratchA)
	}
	g.a.emit(isa.ALU(dst, l, op, r))
}

// dlo and dhi are v's destination registers; dhi is None when the upper
// half is known zero and need not be computed.
func (g *gen) dlo(v *ir.Value) isa.Operand { return isa.GPRBoth(g.info[v.ID].lo) }
func (g *gen) dhi(v *ir.Value) isa.Operand {
	if in := g.info[v.ID]; in.hi >= 0 && !in.hiZero {
		return isa.GPRBoth(in.hi)
	}
	return isa.None
}

// lowerValue selects v's instructions (lowerValue1) with its spilled
// operands reloaded around them and a spilled result stored after.
func (g *gen) lowerValue(v *ir.Value, next *ir.Block) {
	if v.Type != ir.Void && g.info[v.ID].kind != kReg {
		return // folded, aliased, or unused
	}
	// Spilled operands are reloaded into the reload registers first, and a
	// spilled result is computed there and stored after.
	var restore []func()
	k := 0
	take := func(r *ir.Value, load bool) {
		in := &g.info[r.ID]
		if in.kind != kReg || !in.spilled {
			return
		}
		if k+2 > len(reloadRegs) || (load && k+2 > 4) {
			g.fail(v, "more spilled operands than reload registers")
		}
		old := *in
		restore = append(restore, func() { g.info[r.ID] = old })
		in.spilled, in.reloaded = false, true
		in.lo, in.hi = reloadRegs[k], -1
		if !in.hiZero || g.wideDiv(r) {
			in.hi = reloadRegs[k+1]
		}
		k += 2
		if load {
			g.a.emit(isa.Mov(isa.GPRBoth(in.lo), g.lmWord(v, old.slot, false)))
			if in.hi >= 0 {
				g.a.emit(isa.Mov(isa.GPRBoth(in.hi), g.lmWord(v, old.slot+4, false)))
			}
		}
	}
	seen := map[*ir.Value]bool{}
	for _, a := range v.Args {
		if g.info[a.ID].kind == kFused {
			a = a.Args[0] // read by the OR/AND that applies the shift
		}
		if r := g.rootOf(a); !seen[r] {
			seen[r] = true
			take(r, true)
		}
	}
	res := g.info[v.ID]
	if v.Type != ir.Void && res.spilled {
		k = 4
		take(v, false)
	}
	g.lowerValue1(v, next)
	if v.Type != ir.Void && res.spilled {
		in := g.info[v.ID]
		g.a.emit(isa.Mov(g.lmWord(v, res.slot, false), isa.GPRB(in.lo)))
		if in.hi >= 0 {
			g.a.emit(isa.Mov(g.lmWord(v, res.slot+4, false), isa.GPRB(in.hi)))
		}
	}
	for _, f := range restore {
		f()
	}
}

func (g *gen) lowerValue1(v *ir.Value, next *ir.Block) {
	switch {
	case v.Op == ir.OpJump:
		g.edge(v, v.Targets[0], next)
	case v.Op.IsBranch():
		g.lowerBranch(v, next)
	case v.Op == ir.OpRet:
		g.parallel([]pmove{{dst: 0, v: v.Args[0]}, {dst: 1, v: v.Args[0], hi: true}})
		g.a.reloc(isa.BR, image.RelocBrGoOut, g.out, 0, 0)
	case v.Op == ir.OpUnreachable:
		g.a.reloc(isa.BR, image.RelocBrGoAbort, g.abort, 0, 0)
	case v.Op == ir.OpCall:
		g.lowerCall(v)
	case v.Op == ir.OpConst: // one materializeConstants keeps in a register
		g.a.emit(isa.LoadImm32(g.dlo(v), uint32(g.info[v.ID].c))...)
		if dh := g.dhi(v); !dh.IsNone() {
			g.a.emit(isa.LoadImm32(dh, uint32(g.info[v.ID].c>>32))...)
		}
	case v.Op == ir.OpCtxPtr:
		g.lowerCtxPtr(v)
	case v.Op == ir.OpPktLoad8 || v.Op == ir.OpPktLoad16 || v.Op == ir.OpPktLoad32:
		g.lowerPktLoad(v)
	case v.Op.IsMemory() || v.Op == ir.OpLoad8 || v.Op == ir.OpStore8:
		g.lowerMem(v)
	default:
		if cmpOps[v.Op].cond != 0 {
			g.lowerSetCC(v)
			return
		}
		g.lowerALU(v)
	}
}

// cmp is a compare's meaning: kind and width.
type cmp struct {
	cond  uint8 // ceq … cset
	wide  bool
	inv   ir.Op // the branch op with the opposite outcome (OpInvalid: none)
	setOf ir.Op // for value-producing compares: the matching branch op
}

const (
	_ uint8 = iota
	ceq
	cne
	cgt
	cge
	clt
	cle
	csgt
	csge
	cslt
	csle
	cset
)

// cmpOps describes the compare ops, branches and values alike.
var cmpOps = map[ir.Op]cmp{
	ir.OpJeq32: {ceq, false, ir.OpJne32, 0}, ir.OpJeq64: {ceq, true, ir.OpJne64, 0},
	ir.OpJne32: {cne, false, ir.OpJeq32, 0}, ir.OpJne64: {cne, true, ir.OpJeq64, 0},
	ir.OpJgt32: {cgt, false, ir.OpJle32, 0}, ir.OpJgt64: {cgt, true, ir.OpJle64, 0},
	ir.OpJge32: {cge, false, ir.OpJlt32, 0}, ir.OpJge64: {cge, true, ir.OpJlt64, 0},
	ir.OpJlt32: {clt, false, ir.OpJge32, 0}, ir.OpJlt64: {clt, true, ir.OpJge64, 0},
	ir.OpJle32: {cle, false, ir.OpJgt32, 0}, ir.OpJle64: {cle, true, ir.OpJgt64, 0},
	ir.OpJsgt32: {csgt, false, ir.OpJsle32, 0}, ir.OpJsgt64: {csgt, true, ir.OpJsle64, 0},
	ir.OpJsge32: {csge, false, ir.OpJslt32, 0}, ir.OpJsge64: {csge, true, ir.OpJslt64, 0},
	ir.OpJslt32: {cslt, false, ir.OpJsge32, 0}, ir.OpJslt64: {cslt, true, ir.OpJsge64, 0},
	ir.OpJsle32: {csle, false, ir.OpJsgt32, 0}, ir.OpJsle64: {csle, true, ir.OpJsgt64, 0},
	ir.OpJset32: {cset, false, 0, 0}, ir.OpJset64: {cset, true, 0, 0},
	ir.OpEq32: {ceq, false, 0, ir.OpJeq32}, ir.OpEq64: {ceq, true, 0, ir.OpJeq64},
	ir.OpNe32: {cne, false, 0, ir.OpJne32}, ir.OpNe64: {cne, true, 0, ir.OpJne64},
	ir.OpGt32: {cgt, false, 0, ir.OpJgt32}, ir.OpGt64: {cgt, true, 0, ir.OpJgt64},
	ir.OpGe32: {cge, false, 0, ir.OpJge32}, ir.OpGe64: {cge, true, 0, ir.OpJge64},
	ir.OpLt32: {clt, false, 0, ir.OpJlt32}, ir.OpLt64: {clt, true, 0, ir.OpJlt64},
	ir.OpLe32: {cle, false, 0, ir.OpJle32}, ir.OpLe64: {cle, true, 0, ir.OpJle64},
	ir.OpSgt32: {csgt, false, 0, ir.OpJsgt32}, ir.OpSgt64: {csgt, true, 0, ir.OpJsgt64},
	ir.OpSge32: {csge, false, 0, ir.OpJsge32}, ir.OpSge64: {csge, true, 0, ir.OpJsge64},
	ir.OpSlt32: {cslt, false, 0, ir.OpJslt32}, ir.OpSlt64: {cslt, true, 0, ir.OpJslt64},
	ir.OpSle32: {csle, false, 0, ir.OpJsle32}, ir.OpSle64: {csle, true, 0, ir.OpJsle64},
	ir.OpSet32: {cset, false, 0, ir.OpJset32}, ir.OpSet64: {cset, true, 0, ir.OpJset64},
}

func (g *gen) lowerBranch(v *ir.Value, next *ir.Block) {
	c := cmpOps[v.Op]
	taken, fall := v.Targets[0], v.Targets[1]
	// Branch on the opposite condition when the taken block comes next.
	if c.inv != 0 && taken.Block == next && len(taken.Args) == 0 && len(fall.Args) == 0 {
		g.condBranch(cmpOps[c.inv], v.Args[0], v.Args[1], g.blocks[fall.Block])
		return
	}
	tl := g.blocks[taken.Block]
	if len(taken.Args) > 0 {
		tl = g.a.newLabel()
		g.tramps = append(g.tramps, tramp{l: tl, src: v, t: taken})
	}
	g.condBranch(c, v.Args[0], v.Args[1], tl)
	g.edge(v, fall, next)
}

// condBranch emits a compare of x and y and branches to l when it holds
// (nfp-isa.md §4.8: subtract for order, XOR for equality, AND for set).
func (g *gen) condBranch(c cmp, x, y *ir.Value, l label) {
	// Upper halves known zero make a 64-bit compare a 32-bit one, except a
	// signed one: bit 31 is not the sign of the 64-bit value.
	wide := c.wide && !(g.info[x.ID].hiZero && g.info[y.ID].hiZero && !signedCond(c.cond))
	a := g.a
	if g.lengthCompare(c.cond, x, y, l) || g.lookupCompare(c.cond, x, y, l) {
		return
	}
	switch c.cond {
	case ceq, cne:
		if !wide {
			g.alu(isa.None, g.src(x, false, left, limU), isa.OpXor, g.src(y, false, right, limU))
			a.branch(map[bool]isa.Cond{true: isa.BEQ, false: isa.BNE}[c.cond == ceq], l, 0)
			return
		}
		if lo, ok := g.constant(y, false); ok && lo == 0 {
			if hi, ok := g.constant(y, true); ok && hi == 0 {
				// x == 0: OR of its halves.
				g.alu(isa.None, g.src(x, false, left, limU), isa.OpOr, g.src(x, true, right, limU))
				a.branch(map[bool]isa.Cond{true: isa.BEQ, false: isa.BNE}[c.cond == ceq], l, 0)
				return
			}
		}
		if c.cond == cne {
			g.alu(isa.None, g.src(x, false, left, limU), isa.OpXor, g.src(y, false, right, limU))
			a.branch(isa.BNE, l, 0)
			g.alu(isa.None, g.src(x, true, left, limU), isa.OpXor, g.src(y, true, right, limU))
			a.branch(isa.BNE, l, 0)
			return
		}
		g.alu(isa.GPRB(regScratchA), g.src(x, false, left, limU), isa.OpXor, g.src(y, false, right, limU))
		g.alu(isa.GPRA(regScratchB), g.src(x, true, left, limU), isa.OpXor, g.src(y, true, right, limU))
		a.emit(isa.ALU(isa.None, isa.GPRA(regScratchB), isa.OpOr, isa.GPRB(regScratchA)))
		a.branch(isa.BEQ, l, 0)
	case cset:
		g.alu(isa.None, g.src(x, false, left, limU), isa.OpAnd, g.src(y, false, right, limU))
		a.branch(isa.BNE, l, 0)
		if wide {
			g.alu(isa.None, g.src(x, true, left, limU), isa.OpAnd, g.src(y, true, right, limU))
			a.branch(isa.BNE, l, 0)
		}
	default:
		g.ordered(c.cond, wide, x, y, l)
	}
}

// ordered compares by subtraction: L - R sets C when L >= R (unsigned) and
// N != V when L < R (signed). A constant goes on the right (mirroring the
// condition), x > c becomes x >= c+1 and x <= c becomes x < c+1 so that
// no operand swap puts the constant on the left, and a constant whose
// negation is cheaper is added instead (nfp-isa.md §4.8, §6).
func (g *gen) ordered(cond uint8, wide bool, x, y *ir.Value, l label) {
	a := g.a
	konst := func(v *ir.Value) (uint64, bool) {
		lo, ok1 := g.constant(v, false)
		hi, ok2 := g.constant(v, true)
		if !ok1 || !ok2 {
			return 0, false
		}
		if !wide {
			return uint64(lo), true
		}
		return uint64(hi)<<32 | uint64(lo), true
	}
	if _, xc := konst(x); xc {
		if _, yc := konst(y); !yc {
			x, y = y, x
			cond = map[uint8]uint8{cgt: clt, cge: cle, clt: cgt, cle: cge, csgt: cslt, csge: csle, cslt: csgt, csle: csge}[cond]
		}
	}
	k, kc := konst(y)
	umax, smax := uint64(1<<64-1), uint64(1<<63-1)
	if !wide {
		umax, smax = 1<<32-1, 1<<31-1
	}
	if kc {
		switch {
		case cond == cgt && k != umax:
			cond, k = cge, k+1
		case cond == cle && k != umax:
			cond, k = clt, k+1
		case cond == csgt && k != smax:
			cond, k = csge, (k+1)&umax
		case cond == csle && k != smax:
			cond, k = cslt, (k+1)&umax
		}
	}
	var br isa.Cond
	swap := false
	switch cond {
	case cgt:
		br, swap = isa.BLO, true
	case cge:
		br = isa.BHS
	case clt:
		br = isa.BLO
	case cle:
		br, swap = isa.BHS, true
	case csgt:
		br, swap = isa.BLT, true
	case csge:
		br = isa.BGE
	case cslt:
		br = isa.BLT
	case csle:
		br, swap = isa.BGE, true
	}
	if kc && !swap {
		op, opc, v := isa.OpSub, isa.OpSubCarry, k
		if n, ok := cheaperNeg(k, wide); ok {
			op, opc, v = isa.OpAdd, isa.OpAddCarry, n
		}
		g.alu(isa.None, g.src(x, false, left, limU), op, g.immOp(uint32(v), right))
		if wide {
			g.alu(isa.None, g.src(x, true, left, limU), opc, g.immOp(uint32(v>>32), right))
		}
		a.branch(br, l, 0)
		return
	}
	l0, r0 := x, y
	if swap {
		l0, r0 = y, x
	}
	g.alu(isa.None, g.src(l0, false, left, limU), isa.OpSub, g.src(r0, false, right, limU))
	if wide {
		g.alu(isa.None, g.src(l0, true, left, limU), isa.OpSubCarry, g.src(r0, true, right, limU))
	}
	a.branch(br, l, 0)
}

// lowerSetCC computes a compare's 0/1 value with a branch around immed.
func (g *gen) lowerSetCC(v *ir.Value) {
	c := cmpOps[v.Op]
	if g.carryCompare(v, c) {
		return
	}
	skip := g.a.newLabel()
	g.a.emit(isa.Immed(g.dlo(v), 1))
	g.condBranch(cmpOps[c.setOf], v.Args[0], v.Args[1], skip)
	g.a.emit(isa.Immed(g.dlo(v), 0))
	g.a.place(skip)
	g.lm3 = -1
}

// immOp is constant v as an operand of side s: inline when it fits, else
// in the side's scratch register.
func (g *gen) immOp(v uint32, s side) isa.Operand {
	if v <= limU {
		return isa.Imm(v)
	}
	g.a.emit(isa.LoadImm32(g.scratch(s), v)...)
	return g.scratch(s)
}

// negated returns -y when y is a constant whose negation costs fewer
// immed instructions (the JIT's negative-immediate flip, nfp-isa.md §6).
func (g *gen) negated(y *ir.Value, wide bool) (uint32, uint32, bool) {
	lo, ok1 := g.constant(y, false)
	hi, ok2 := g.constant(y, true)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	c := uint64(hi)<<32 | uint64(lo)
	if !wide {
		c = uint64(lo)
	}
	n, ok := cheaperNeg(c, wide)
	return uint32(n), uint32(n >> 32), ok
}

// cheaperNeg returns -c (in the width) when it needs fewer immed
// instructions than c. c = 0 and the width's minimum keep their form:
// negating them changes the carry or the overflow of x - c.
func cheaperNeg(c uint64, wide bool) (uint64, bool) {
	min := uint64(1) << 63
	if !wide {
		min = 1 << 31
	}
	if c == 0 || c == min {
		return 0, false
	}
	n := -c
	if !wide {
		n = uint64(-uint32(c))
	}
	cost := func(v uint64) int {
		k := 0
		if uint32(v) > limU {
			k++
		}
		if wide && uint32(v>>32) > limU {
			k++
		}
		return k
	}
	if cost(n) >= cost(c) {
		return 0, false
	}
	return n, true
}

func signedCond(c uint8) bool { return c == csgt || c == csge || c == cslt || c == csle }

// lengthCompare lowers an unsigned compare of data + k (a packet pointer
// the verifier fixed at offset k) with data_end as a compare of the packet
// length B22 keeps: data + k < data_end ⇔ k < len, and so on. It needs
// neither pointer in a register: one word, no addition (and pointers used
// only so are never computed: kFolded).
func (g *gen) lengthCompare(cond uint8, x, y *ir.Value, l label) bool {
	j, bc, ok := g.lenCompare(cond, x, y)
	if !ok {
		return false
	}
	r := isa.Imm(uint32(j))
	if j > limU {
		r = isa.GPRA(regScratchA)
		g.a.emit(isa.Immed(r, uint32(j)))
	}
	g.a.emit(isa.ALU(isa.None, isa.GPRB(regStack), isa.OpSub, r))
	g.a.branch(bc, l, 0)
	return true
}

// lenCompare decides whether x COND y is data + k against data_end and
// returns it as len ≥ j (bcs) or len < j (bcc).
func (g *gen) lenCompare(cond uint8, x, y *ir.Value) (int64, isa.Cond, bool) {
	if g.opts.Baseline {
		return 0, 0, false // the JIT compares the pointers
	}
	k, ok := g.pktOff(x)
	switch {
	case ok && g.isPktEnd(y):
	case g.isPktEnd(x):
		if k, ok = g.pktOff(y); !ok {
			return 0, 0, false
		}
		cond = map[uint8]uint8{cgt: clt, cge: cle, clt: cgt, cle: cge}[cond]
	default:
		return 0, 0, false
	}
	switch cond {
	case cgt: // len < k
		return k, isa.BCC, true
	case cge: // len < k + 1
		return k + 1, isa.BCC, true
	case clt: // len ≥ k + 1
		return k + 1, isa.BCS, true
	case cle: // len ≥ k
		return k, isa.BCS, true
	}
	return 0, 0, false
}

// pktOff returns k when the verifier proved v = data + k.
func (g *gen) pktOff(v *ir.Value) (int64, bool) {
	fa := g.f.Facts[v.ID]
	if fa == nil || fa.Ptr == nil || fa.Ptr.Kind != ir.PtrPkt || fa.Ptr.MinOff != fa.Ptr.MaxOff {
		return 0, false
	}
	k := fa.Ptr.MinOff
	return k, k >= 0 && k < 1<<16
}

func (g *gen) isPktEnd(v *ir.Value) bool {
	fa := g.f.Facts[v.ID]
	return fa != nil && fa.Ptr != nil && fa.Ptr.Kind == ir.PtrPktEnd
}

// markFolded gives kind kFolded to the values whose every use the
// backend folds away: packet pointers (and data_end) only compared with
// data_end (lengthCompare), and pointers only read through by grouped
// packet loads other than their group's first (the window is read through
// the first one's pointer). Such values need no code.
func (g *gen) markFolded() {
	first := map[*pktGroup]*ir.Value{}
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			if grp := g.groups[v]; grp != nil && first[grp] == nil {
				first[grp] = v
			}
		}
	}
	ok := make([]bool, g.f.NumValues())
	used := make([]bool, g.f.NumValues())
	use := func(a *ir.Value, folded bool) {
		switch {
		case !folded:
			used[a.ID], ok[a.ID] = true, false
		case !used[a.ID]:
			used[a.ID], ok[a.ID] = true, true
		}
	}
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			c := cmpOps[v.Op]
			lc := false
			if v.Op.IsBranch() && c.cond != 0 && len(v.Args) == 2 {
				_, _, lc = g.lenCompare(c.cond, v.Args[0], v.Args[1])
			}
			grouped := g.groups[v] != nil && first[g.groups[v]] != v
			for i, a := range v.Args {
				use(a, lc || grouped && i == 0)
			}
			for _, t := range v.Targets {
				for _, a := range t.Args {
					use(a, false)
				}
			}
		}
	}
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			if ok[v.ID] && g.info[v.ID].kind == kReg && (v.Op == ir.OpAdd64 || v.Op == ir.OpCtxPtr) {
				g.info[v.ID].kind = kFolded
			}
		}
	}
}

// carryCompare lowers an unsigned order compare as a value without a
// branch: L - R sets the carry exactly when L >= R, and d = A20 + 0 +
// carry with A20 = 0 (an immed after the compare: immed keeps the
// condition codes) reads it out; L < R is its negation (one XOR 1) unless
// a constant side lets it be written as >= (x < k as k-1 >= x, k < x as x
// >= k+1). Only 32-bit compares, or 64-bit ones whose upper halves are
// zero, qualify.
func (g *gen) carryCompare(v *ir.Value, c cmp) bool {
	x, y := v.Args[0], v.Args[1]
	if c.wide && !(g.info[x.ID].hiZero && g.info[y.ID].hiZero) {
		return false
	}
	cond := c.cond
	switch cond {
	case cle: // x <= y ⇔ y >= x
		x, y, cond = y, x, cge
	case cgt: // x > y ⇔ y < x
		x, y, cond = y, x, clt
	case cge, clt:
	default:
		return false
	}
	const max32 = 1<<32 - 1
	type opnd struct {
		v *ir.Value
		k uint32
	}
	l, r := opnd{v: x}, opnd{v: y}
	neg := cond == clt
	if neg {
		if k, ok := g.constant(y, false); ok && k >= 1 {
			l, r, neg = opnd{k: k - 1}, opnd{v: x}, false // x < k ⇔ k-1 >= x
		} else if k, ok := g.constant(x, false); ok && k < max32 {
			l, r, neg = opnd{v: y}, opnd{k: k + 1}, false // k < y ⇔ y >= k+1
		}
	}
	operand := func(o opnd, s side) isa.Operand {
		if o.v != nil {
			return g.src(o.v, false, s, limU)
		}
		return g.immOp(o.k, s)
	}
	if _, lc := g.constant(x, false); lc {
		if _, rc := g.constant(y, false); rc {
			return false // (two immediates cannot be one instruction's sources)
		}
	}
	lo := operand(l, left)
	ro := operand(r, right)
	d := g.dlo(v)
	g.a.emit(isa.ALU(isa.None, lo, isa.OpSub, ro),
		isa.Immed(isa.GPRA(regScratchA), 0),
		isa.ALU(d, isa.GPRA(regScratchA), isa.OpAddCarry, isa.Imm(0)))
	if neg {
		g.a.emit(isa.ALU(d, isa.GPRA(d.Num), isa.OpXor, isa.Imm(1)))
	}
	return true
}
