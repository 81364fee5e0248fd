package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// aluOps maps the IR's bitwise and additive ops to the NFP ALU op of the
// low half and of the high half (add/sub carry into it).
var aluOps = map[ir.Op]struct {
	lo, hi isa.ALUOp
	wide   bool
}{
	ir.OpAdd32: {isa.OpAdd, 0, false}, ir.OpAdd64: {isa.OpAdd, isa.OpAddCarry, true},
	ir.OpSub32: {isa.OpSub, 0, false}, ir.OpSub64: {isa.OpSub, isa.OpSubCarry, true},
	ir.OpAnd32: {isa.OpAnd, 0, false}, ir.OpAnd64: {isa.OpAnd, isa.OpAnd, true},
	ir.OpOr32: {isa.OpOr, 0, false}, ir.OpOr64: {isa.OpOr, isa.OpOr, true},
	ir.OpXor32: {isa.OpXor, 0, false}, ir.OpXor64: {isa.OpXor, isa.OpXor, true},
}

func (g *gen) lowerALU(v *ir.Value) {
	a := g.a
	if g.fusedShift(v) {
		return
	}
	if op, ok := aluOps[v.Op]; ok {
		x, y := v.Args[0], v.Args[1]
		if op.lo == isa.OpAdd || op.lo == isa.OpSub {
			if nlo, nhi, ok := g.negated(y, op.wide); ok {
				// x + c as x - (-c) and the reverse: a cheaper constant.
				flip := map[isa.ALUOp]isa.ALUOp{isa.OpAdd: isa.OpSub, isa.OpSub: isa.OpAdd, isa.OpAddCarry: isa.OpSubCarry, isa.OpSubCarry: isa.OpAddCarry}
				g.alu(g.dlo(v), g.src(x, false, left, limU), flip[op.lo], g.immOp(nlo, right))
				if dh := g.dhi(v); op.wide && !dh.IsNone() {
					g.alu(dh, g.src(x, true, left, limU), flip[op.hi], g.immOp(nhi, right))
				}
				return
			}
		}
		g.aluHalf(g.dlo(v), op.lo, x, y, false)
		if dh := g.dhi(v); op.wide && !dh.IsNone() {
			g.aluHalf(dh, op.hi, x, y, true)
		}
		return
	}
	switch v.Op {
	case ir.OpNeg32, ir.OpNeg64:
		g.alu(g.dlo(v), isa.Imm(0), isa.OpSub, g.src(v.Args[0], false, right, limU))
		if dh := g.dhi(v); v.Op == ir.OpNeg64 && !dh.IsNone() {
			g.alu(dh, isa.Imm(0), isa.OpSubCarry, g.src(v.Args[0], true, right, limU))
		}
	case ir.OpZext, ir.OpTrunc:
		if d, s := g.dlo(v), g.src(v.Args[0], false, right, limU); d.Kind != s.Kind || d.Num != s.Num {
			a.emit(isa.Mov(d, s))
		}
		if dh := g.dhi(v); !dh.IsNone() {
			a.emit(isa.Immed(dh, 0))
		}
	case ir.OpSext:
		s := g.src(v.Args[0], false, right, limU)
		a.emit(isa.Mov(g.dlo(v), s))
		g.signHi(v, g.dlo(v))
	case ir.OpSext8, ir.OpSext16:
		n := 24
		if v.Op == ir.OpSext16 {
			n = 16
		}
		d := g.dlo(v)
		a.emit(isa.Shf(d, isa.None, isa.ShfB, g.src(v.Args[0], false, right, limU), isa.ShiftL, n))
		// asr fills with the sign of the previous ALU result: the shifted value.
		a.emit(isa.Asr(d, isa.GPRB(d.Num), n))
	case ir.OpBswap16:
		s := g.src(v.Args[0], false, right, limU)
		d := g.dlo(v)
		a.emit(isa.LdField(d, 0x2, s, isa.ShiftL, 8, true), isa.LdField(d, 0x1, s, isa.ShiftR, 8, false))
	case ir.OpBswap32:
		g.bswap32(g.dlo(v), g.src(v.Args[0], false, right, limU))
	case ir.OpBswap64:
		g.bswap32(g.dlo(v), g.src(v.Args[0], true, right, limU))
		if dh := g.dhi(v); !dh.IsNone() {
			g.bswap32(dh, g.src(v.Args[0], false, right, limU))
		}
	case ir.OpLsh32, ir.OpRsh32, ir.OpArsh32:
		g.shift32(v)
	case ir.OpLsh64, ir.OpRsh64, ir.OpArsh64:
		g.shift64(v)
	case ir.OpMul32, ir.OpMul64:
		g.mul(v)
	case ir.OpDiv32, ir.OpDiv64, ir.OpMod32, ir.OpMod64, ir.OpSdiv32, ir.OpSdiv64, ir.OpSmod32, ir.OpSmod64:
		g.div(v)
	default:
		g.fail(v, "op %s is not supported by the NFP backend", v.Op)
	}
}

// aluHalf emits one half of a binary op. Bitwise ops with a constant take
// the shortest form (nfp-isa.md §4.7's identities, and a byte mask as one
// ld_field_w_clr instead of immed + AND).
func (g *gen) aluHalf(d isa.Operand, op isa.ALUOp, x, y *ir.Value, hi bool) {
	if c, ok := g.constant(y, hi); ok {
		src := func() isa.Operand { return g.src(x, hi, right, limU) }
		switch {
		case op == isa.OpAnd && c == 0, op == isa.OpOr && c == 0xffffffff:
			g.a.emit(isa.Immed(d, c))
			return
		case op == isa.OpAnd && c == 0xffffffff, (op == isa.OpOr || op == isa.OpXor) && c == 0:
			g.a.emit(isa.Mov(d, src()))
			return
		case op == isa.OpXor && c == 0xffffffff:
			g.a.emit(isa.ALU(d, isa.None, isa.OpNotB, src()))
			return
		case op == isa.OpAnd && c > limU:
			if mask, ok := byteMask(c); ok {
				g.a.emit(isa.LdField(d, mask, src(), isa.ShiftRotR, 0, true))
				return
			}
		}
	}
	g.alu(d, g.src(x, hi, left, limU), op, g.src(y, hi, right, limU))
}

// notBothImm returns l, moved to A20 first when l and r are both
// immediates (one instruction cannot read two).
func (g *gen) notBothImm(l, r isa.Operand) isa.Operand {
	if l.IsImm() && r.IsImm() {
		g.a.emit(isa.Immed(isa.GPRA(regScratchA), l.Value))
		return isa.GPRA(regScratchA)
	}
	return l
}

// byteMask is the ld_field byte mask of a constant made of 0x00 and 0xff
// bytes.
func byteMask(c uint32) (uint8, bool) {
	var m uint8
	for i := 0; i < 4; i++ {
		switch c >> (8 * i) & 0xff {
		case 0xff:
			m |= 1 << i
		case 0:
		default:
			return 0, false
		}
	}
	return m, true
}

// signHi writes the sign of lo into v's upper half. asr takes its fill bit
// from the previous ALU-class result (alu, alu_shf, asr, ld_field, immed),
// which the callers have just made lo itself.
func (g *gen) signHi(v *ir.Value, lo isa.Operand) {
	dh := g.dhi(v)
	if dh.IsNone() {
		return
	}
	g.a.emit(isa.Asr(dh, isa.GPRB(lo.Num), 31))
}

// bswap32 reverses the bytes of s into d with two byte-lane loads of
// rotations of s (rotate right 8 gives lanes 1 and 3, 24 lanes 0 and 2).
func (g *gen) bswap32(d, s isa.Operand) {
	g.a.emit(isa.LdField(d, 0xa, s, isa.ShiftRotR, 8, true), isa.LdField(d, 0x5, s, isa.ShiftRotR, 24, false))
}

func (g *gen) shift32(v *ir.Value) {
	a := g.a
	d := g.dlo(v)
	x := v.Args[0]
	if n, ok := g.constant(v.Args[1], false); ok {
		n &= 31
		s := g.src(x, false, right, limU)
		switch {
		case n == 0:
			a.emit(isa.Mov(d, s))
		case v.Op == ir.OpLsh32:
			a.emit(isa.Shf(d, isa.None, isa.ShfB, s, isa.ShiftL, int(n)))
		case v.Op == ir.OpRsh32:
			a.emit(isa.Shf(d, isa.None, isa.ShfB, s, isa.ShiftR, int(n)))
		default:
			a.emit(isa.Mov(isa.None, s), isa.Asr(d, s, int(n)))
		}
		return
	}
	// Indirect: the amount is the A operand of the previous ALU op; for asr
	// its result also gives the sign (amount < 32 cannot change bit 31).
	amt := g.src(v.Args[1], false, left, limU)
	s := g.src(x, false, right, limU)
	switch v.Op {
	case ir.OpLsh32:
		a.emit(isa.ALU(isa.None, amt, isa.OpOr, isa.Imm(0)), isa.Shf(d, isa.None, isa.ShfB, s, isa.ShiftL, 0))
	case ir.OpRsh32:
		a.emit(isa.ALU(isa.None, amt, isa.OpOr, isa.Imm(0)), isa.Shf(d, isa.None, isa.ShfB, s, isa.ShiftR, 0))
	default:
		// amount & 31 OR value: bit 31 is the value's sign.
		a.emit(isa.ALU(isa.GPRA(regScratchA), amt, isa.OpAnd, isa.Imm(31)),
			isa.ALU(isa.None, isa.GPRA(regScratchA), isa.OpOr, s), isa.Asr(d, s, 0))
	}
}

func (g *gen) shift64(v *ir.Value) {
	a := g.a
	n, ok := g.constant(v.Args[1], false)
	if !ok {
		g.shiftVar64(v)
		return
	}
	n &= 63
	x := v.Args[0]
	dl, dh := g.dlo(v), g.dhi(v)
	lo := func() isa.Operand { return g.src(x, false, right, limU) }
	hiL := func() isa.Operand { return g.src(x, true, left, limU) }
	hiR := func() isa.Operand { return g.src(x, true, right, limU) }
	setHi := func(f func()) {
		if !dh.IsNone() {
			f()
		}
	}
	switch v.Op {
	case ir.OpLsh64:
		switch {
		case n == 0:
			a.emit(isa.Mov(dl, lo()))
			setHi(func() { a.emit(isa.Mov(dh, hiR())) })
		case n < 32:
			setHi(func() { a.emit(isa.DblShf(dh, g.notBothImm(hiL(), lo()), lo(), 32-int(n))) })
			a.emit(isa.Shf(dl, isa.None, isa.ShfB, lo(), isa.ShiftL, int(n)))
		case n == 32:
			setHi(func() { a.emit(isa.Mov(dh, lo())) })
			a.emit(isa.Immed(dl, 0))
		default:
			setHi(func() { a.emit(isa.Shf(dh, isa.None, isa.ShfB, lo(), isa.ShiftL, int(n-32))) })
			a.emit(isa.Immed(dl, 0))
		}
	case ir.OpRsh64:
		switch {
		case n == 0:
			a.emit(isa.Mov(dl, lo()))
			setHi(func() { a.emit(isa.Mov(dh, hiR())) })
		case n < 32:
			a.emit(isa.DblShf(dl, g.notBothImm(hiL(), lo()), lo(), int(n)))
			setHi(func() { a.emit(isa.Shf(dh, isa.None, isa.ShfB, hiR(), isa.ShiftR, int(n))) })
		case n == 32:
			a.emit(isa.Mov(dl, hiR()))
			setHi(func() { a.emit(isa.Immed(dh, 0)) })
		default:
			a.emit(isa.Shf(dl, isa.None, isa.ShfB, hiR(), isa.ShiftR, int(n-32)))
			setHi(func() { a.emit(isa.Immed(dh, 0)) })
		}
	default: // arsh
		switch {
		case n == 0:
			a.emit(isa.Mov(dl, lo()))
			setHi(func() { a.emit(isa.Mov(dh, hiR())) })
		case n < 32:
			a.emit(isa.DblShf(dl, g.notBothImm(hiL(), lo()), lo(), int(n)))
			setHi(func() { h := hiR(); a.emit(isa.Mov(isa.None, h), isa.Asr(dh, h, int(n))) })
		default:
			// The mov or asr leaves a result with the sign of the upper
			// half for the second asr.
			h := hiR()
			if n == 32 {
				a.emit(isa.Mov(dl, h))
			} else {
				a.emit(isa.Mov(isa.None, h), isa.Asr(dl, h, int(n-32)))
			}
			// h again, not hiR(): rebuilding a constant with immed would
			// replace the previous result asr takes its sign from.
			setHi(func() { a.emit(isa.Asr(dh, h, 31)) })
		}
	}
}

// mul32 emits a 32x32 multiply of two 32-bit operands (nfp-isa.md §2.9):
// the low word into lo, the high word into hi unless hi is None.
func (g *gen) mul32(lo, hi, x, y isa.Operand) {
	a := g.a
	x = g.notBothImm(x, y)
	a.emit(isa.MulStepOp(x, y, isa.MulStart, isa.MulStep1))
	for s := isa.MulStep1; s <= isa.MulStep4; s++ {
		a.emit(isa.MulStepOp(x, y, isa.Mul32x32, s))
	}
	a.emit(isa.MulResult(lo, isa.Mul32x32, false))
	if !hi.IsNone() {
		a.emit(isa.MulResult(hi, isa.Mul32x32, true))
	}
}

// mul: the low 64 bits of x*y are lo(x)*lo(y) (64-bit) plus, in the upper
// word, lo(x)*hi(y) + hi(x)*lo(y); halves known zero drop their terms.
func (g *gen) mul(v *ir.Value) {
	x, y := v.Args[0], v.Args[1]
	dl, dh := g.dlo(v), g.dhi(v)
	if v.Op == ir.OpMul32 {
		dh = isa.None
	}
	g.mul32(dl, dh, g.src(x, false, left, limU), g.src(y, false, right, limU))
	if dh.IsNone() || v.Op == ir.OpMul32 {
		return
	}
	for _, t := range [][2]bool{{false, true}, {true, false}} {
		if g.zeroHalf(x, t[0]) || g.zeroHalf(y, t[1]) {
			continue
		}
		// A20 is free for the product once its operands are read.
		g.mul32(isa.GPRA(regScratchA), isa.None, g.src(x, t[0], left, limU), g.src(y, t[1], right, limU))
		g.a.emit(isa.ALU(dh, isa.GPRA(regScratchA), isa.OpAdd, isa.GPRB(dh.Num)))
	}
}

// zeroHalf reports whether one half of v is known zero, the upper one
// also by the verifier's facts: the JIT's baseline (-O0) keeps such
// halves in registers but, as the Linux JIT, sizes multiplications by
// the operands' ranges.
func (g *gen) zeroHalf(v *ir.Value, hi bool) bool {
	if c, ok := g.constant(v, hi); ok && c == 0 {
		return true
	}
	return hi && (v.Op == ir.OpZext || hiZeroFacts(g.f, v))
}

// shiftVar64 shifts by a register: bit 5 of the amount selects the >= 32
// sequence (unless the verifier's range decides it), each shift takes its
// amount (mod 32) from the previous ALU instruction's A operand. The bits
// crossing halves move in two steps (by 1, then by 31 - s) into B21 (A20
// holds 31 - s) so that s = 0 needs no special case. The amount register
// may hold anything above bit 5 (eBPF masks it): only its low 5 bits and
// bit 5 are read, and asr's sign comes from the value, OR-ed with the
// amount masked to 5 bits.
//
// A half of x that is not in a register (a constant too wide for an
// immediate) is built in B21 right before each instruction that reads it,
// before the amount is set: B21 is also the crossing bits' temporary, and
// both halves of a constant would otherwise share it.
func (g *gen) shiftVar64(v *ir.Value) {
	a := g.a
	x, amt := v.Args[0], v.Args[1]
	if g.info[g.rootOf(amt).ID].kind != kReg {
		g.fail(v, "%s by an amount that is not a register value", v.Op)
	}
	sa, sb := g.src(amt, false, left, limU), g.src(amt, false, right, limU)
	L := func() isa.Operand { return g.src(x, false, right, limU) }
	H := func() isa.Operand { return g.src(x, true, right, limU) }
	dl, dh := g.dlo(v), g.dhi(v)
	t := isa.GPRBoth(regScratchB)
	setAmt := func() { a.emit(isa.ALU(isa.None, sa, isa.OpOr, isa.Imm(0))) }
	// shift emits d = src shifted by the amount in dir.
	shift := func(d isa.Operand, src func() isa.Operand, dir isa.ShiftCtl) {
		s := src()
		setAmt()
		a.emit(isa.Shf(d, isa.None, isa.ShfB, s, dir, 0))
	}
	// asr emits d = H >> amount (arithmetic): A20 = amount & 31, then
	// A20 OR H gives asr H's sign and the amount. It returns H's operand.
	asr := func(d isa.Operand) isa.Operand {
		h := H()
		a.emit(isa.ALU(isa.GPRA(regScratchA), sa, isa.OpAnd, isa.Imm(31)),
			isa.ALU(isa.None, isa.GPRA(regScratchA), isa.OpOr, h), isa.Asr(d, h, 0))
		return h
	}
	// crossing computes T = (src shifted once by 1 in dir) shifted by 31-s.
	crossing := func(src func() isa.Operand, dir isa.ShiftCtl) {
		a.emit(isa.Shf(t, isa.None, isa.ShfB, src(), dir, 1),
			isa.ALU(isa.GPRA(regScratchA), isa.Imm(31), isa.OpSub, sb),
			isa.ALU(isa.None, isa.GPRA(regScratchA), isa.OpOr, isa.Imm(0)),
			isa.Shf(t, isa.None, isa.ShfB, isa.GPRB(regScratchB), dir, 0))
	}
	lt := func() {
		switch v.Op {
		case ir.OpLsh64:
			if !dh.IsNone() {
				shift(dh, H, isa.ShiftL)
				crossing(L, isa.ShiftR)
				a.emit(isa.ALU(dh, isa.GPRA(dh.Num), isa.OpOr, isa.GPRB(regScratchB)))
			}
			shift(dl, L, isa.ShiftL)
		default:
			shift(dl, L, isa.ShiftR)
			crossing(H, isa.ShiftL)
			a.emit(isa.ALU(dl, isa.GPRA(dl.Num), isa.OpOr, isa.GPRB(regScratchB)))
			if dh.IsNone() {
				return
			}
			if v.Op == ir.OpRsh64 {
				shift(dh, H, isa.ShiftR)
			} else {
				asr(dh)
			}
		}
	}
	ge := func() {
		switch v.Op {
		case ir.OpLsh64:
			if !dh.IsNone() {
				shift(dh, L, isa.ShiftL)
			}
			a.emit(isa.Immed(dl, 0))
		case ir.OpRsh64:
			shift(dl, H, isa.ShiftR)
			if !dh.IsNone() {
				a.emit(isa.Immed(dh, 0))
			}
		default:
			// The asr's result has H's sign for the second asr (and B21,
			// if H was built there, still holds it).
			h := asr(dl)
			if !dh.IsNone() {
				a.emit(isa.Asr(dh, h, 31))
			}
		}
	}
	var umin, umax uint64 = 0, 1<<64 - 1
	if fa := g.f.Facts[amt.ID]; fa != nil && fa.U64 != nil {
		umin, umax = fa.U64.Min, fa.U64.Max
	}
	switch {
	case umax&63 == umax && umax < 32:
		lt()
	case umin >= 32 && umax < 64:
		ge()
	default:
		geL, end := a.newLabel(), a.newLabel()
		a.emit(isa.ALU(isa.None, sa, isa.OpAnd, isa.Imm(32)))
		a.branch(isa.BNE, geL, 0)
		lt()
		a.branch(isa.BR, end, 0)
		a.place(geL)
		ge()
		a.place(end)
		g.lm3 = -1
	}
}
