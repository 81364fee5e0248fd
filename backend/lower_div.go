package backend

import (
	"math/bits"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// Division and modulo. eBPF defines x / 0 = 0 and x % 0 = x; the signed
// forms (cpu v4) truncate toward zero, x s/ 0 = 0, x s% 0 = x,
// INT_MIN s/ -1 = INT_MIN and INT_MIN s% -1 = 0 (RFC 9669 §4.1, "Arithmetic
// instructions"). The NFP has no divider (nfp-isa.md §4.7: the Linux JIT
// divides only u32 by a u32 constant), so:
//
//   - by 0 (or a 64-bit constant no 32-bit dividend reaches): a constant
//     or a move;
//   - by a power of two: a shift or a mask, 64-bit too;
//   - 32-bit values by a constant below 2^31: restoring division unrolled
//     over 32 steps (divConst); from 2^31 up: one compare (divBig);
//   - 32-bit values by a register: divReg (zero and bit 31 tested first);
//   - 64-bit values: a restoring-division loop over 64 bits (divWide);
//   - signed: the unsigned sequence on absolute values, then the sign of
//     the quotient (x ^ y) or of the remainder (x) applied (|INT_MIN| is
//     2^31 or 2^63 unsigned, which the unsigned sequences divide exactly).

type divKind uint8

const (
	divZero     divKind = iota // q = 0, r = x
	divPow2                    // a shift or a mask
	divConst32                 // 32-bit dividend, constant divisor
	divReg32                   // 32-bit dividend and divisor in a register
	divSigned32                // sdiv32/smod32
	divWide                    // the 64-bit loop (divWide), signed or not
)

func isMod(op ir.Op) bool {
	return op == ir.OpMod32 || op == ir.OpMod64 || op == ir.OpSmod32 || op == ir.OpSmod64
}

// hiKnownZero reports whether v's upper half is known zero.
func (g *gen) hiKnownZero(v *ir.Value) bool {
	c, ok := g.constant(v, true)
	return ok && c == 0
}

// constant64 is v's compile-time value, if both halves are known.
func (g *gen) constant64(v *ir.Value) (uint64, bool) {
	lo, ok := g.constant(v, false)
	hi, ok2 := g.constant(v, true)
	return uint64(hi)<<32 | uint64(lo), ok && ok2
}

// divKindOf picks v's sequence (v a division or modulo).
func (g *gen) divKindOf(v *ir.Value) divKind {
	x, y := v.Args[0], v.Args[1]
	c, isConst := g.constant64(y)
	switch v.Op {
	case ir.OpDiv32, ir.OpMod32, ir.OpSdiv32, ir.OpSmod32:
		c &= 0xffffffff
		switch {
		case isConst && c == 0:
			return divZero
		case v.Op == ir.OpSdiv32 || v.Op == ir.OpSmod32:
			return divSigned32
		case isConst && c&(c-1) == 0:
			return divPow2
		case isConst:
			return divConst32
		}
		return divReg32
	}
	narrow := g.hiKnownZero(x) && g.hiKnownZero(y)
	switch {
	case isConst && c == 0:
		return divZero
	case v.Op == ir.OpSdiv64 || v.Op == ir.OpSmod64:
		// Both non-negative as 64-bit values: the unsigned quotient.
		if !narrow {
			return divWide
		}
	case isConst && c&(c-1) == 0:
		return divPow2
	case isConst && c>>32 != 0 && g.hiKnownZero(x):
		return divZero // x < 2^32 <= c
	}
	switch {
	case !narrow:
		return divWide
	case isConst && c&(c-1) == 0:
		return divPow2
	case isConst:
		return divConst32
	}
	return divReg32
}

// wideDiv reports whether v is lowered by the 64-bit loop, which needs
// both of v's registers as the quotient even when its upper half is known
// zero (the allocator gives it two) and an LM scratch area (divScratch).
func (g *gen) wideDiv(v *ir.Value) bool {
	switch v.Op {
	case ir.OpDiv64, ir.OpMod64, ir.OpSdiv64, ir.OpSmod64:
		return g.info[v.ID].kind == kReg && g.divKindOf(v) == divWide
	}
	return false
}

// divScratchBytes is what the 64-bit loop needs of the staging area (free
// while no helper runs): 16 bytes at a 16-aligned LM address, so that its
// four words lie in one *l$index3 window — the divisor's two words, the
// loop counter and the sign. It sets g.divScratch.
func (g *gen) divScratchBytes() int64 {
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			if g.wideDiv(v) {
				g.divScratch = (g.spillBytes + 15) &^ 15
				return g.divScratch - g.spillBytes + 16
			}
		}
	}
	return 0
}

func (g *gen) div(v *ir.Value) {
	mod := isMod(v.Op)
	x := v.Args[0]
	d := g.dlo(v)
	switch g.divKindOf(v) {
	case divZero:
		if mod {
			g.loadTo(d, x, false)
			if dh := g.dhi(v); !dh.IsNone() {
				g.loadTo(dh, x, true)
			}
			return
		}
		g.a.emit(isa.Immed(d, 0))
		if dh := g.dhi(v); !dh.IsNone() {
			g.a.emit(isa.Immed(dh, 0))
		}
	case divPow2:
		c, _ := g.constant64(v.Args[1])
		if v.Op == ir.OpDiv32 || v.Op == ir.OpMod32 {
			c &= 0xffffffff
		}
		g.divPow2(v, bits.TrailingZeros64(c))
	case divConst32:
		c, _ := g.constant(v.Args[1], false)
		if c < 1<<31 {
			g.divConst(v, c)
			return
		}
		// One compare: the quotient is 0 or 1.
		g.a.emit(isa.LoadImm32(isa.GPRB(regScratchB), c)...)
		g.loadTo(d, x, false)
		zero, end := g.a.newLabel(), g.a.newLabel()
		g.divBig(d, mod, zero)
		g.a.branch(isa.BR, end, 0)
		g.a.place(zero)
		if !mod {
			g.a.emit(isa.Immed(d, 0))
		}
		g.a.place(end)
		g.zeroHi(v)
	case divReg32:
		g.divReg(v)
	case divSigned32:
		g.divSigned32(v)
	default:
		g.divWide(v)
	}
}

// loadTo moves one half of v into dst; a constant goes straight there
// (not through B21, which may hold a divisor).
func (g *gen) loadTo(dst isa.Operand, v *ir.Value, hi bool) {
	if c, ok := g.constant(v, hi); ok && c > limU {
		g.a.emit(isa.LoadImm32(dst, c)...)
		return
	}
	g.a.emit(isa.Mov(dst, g.src(v, hi, right, limU)))
}

func (g *gen) zeroHi(v *ir.Value) {
	if dh := g.dhi(v); !dh.IsNone() {
		g.a.emit(isa.Immed(dh, 0))
	}
}

// divPow2 divides by 2^n: x >> n, or x & (2^n - 1).
func (g *gen) divPow2(v *ir.Value, n int) {
	a := g.a
	x := v.Args[0]
	dl, dh := g.dlo(v), g.dhi(v)
	if isMod(v.Op) {
		mask := uint64(1)<<n - 1
		g.andConst(dl, x, false, uint32(mask))
		if !dh.IsNone() {
			g.andConst(dh, x, true, uint32(mask>>32))
		}
		return
	}
	lo := func() isa.Operand { return g.src(x, false, right, limU) }
	hiR := func() isa.Operand { return g.src(x, true, right, limU) }
	switch {
	case n == 0:
		a.emit(isa.Mov(dl, lo()))
		if !dh.IsNone() {
			a.emit(isa.Mov(dh, hiR()))
		}
	case n < 32 && g.hiKnownZero(x):
		a.emit(isa.Shf(dl, isa.None, isa.ShfB, lo(), isa.ShiftR, n))
		g.zeroHi(v)
	case n < 32:
		a.emit(isa.DblShf(dl, g.notBothImm(g.src(x, true, left, limU), lo()), lo(), n))
		if !dh.IsNone() {
			a.emit(isa.Shf(dh, isa.None, isa.ShfB, hiR(), isa.ShiftR, n))
		}
	case n == 32:
		a.emit(isa.Mov(dl, hiR()))
		g.zeroHi(v)
	default:
		a.emit(isa.Shf(dl, isa.None, isa.ShfB, hiR(), isa.ShiftR, n-32))
		g.zeroHi(v)
	}
}

// andConst writes one half of x AND c into d.
func (g *gen) andConst(d isa.Operand, x *ir.Value, hi bool, c uint32) {
	switch c {
	case 0:
		g.a.emit(isa.Immed(d, 0))
	case 0xffffffff:
		g.a.emit(isa.Mov(d, g.src(x, hi, right, limU)))
	default:
		m := isa.Imm(c)
		if c > limU {
			g.a.emit(isa.LoadImm32(isa.GPRA(regScratchA), c)...)
			m = isa.GPRA(regScratchA)
		}
		g.alu(d, m, isa.OpAnd, g.src(x, hi, right, limU))
	}
}

// divConst divides the 32-bit dividend by a constant c (not a power of two,
// below 2^31) by restoring division, unrolled: 32 steps each shift the next
// dividend bit from q (the result register, B side) into the remainder r
// (A20), subtract c when r >= c (into B20 first; the borrow decides) and set
// the quotient bit. r < c < 2^31 keeps r << 1 within 32 bits. The quotient
// or the remainder is the result; the upper half is zero.
func (g *gen) divConst(v *ir.Value, c uint32) {
	a := g.a
	d := g.dlo(v)
	a.emit(isa.Mov(d, g.src(v.Args[0], false, right, limU)))
	cv := isa.Imm(c)
	if c > limU {
		a.emit(isa.LoadImm32(isa.GPRB(regScratchB), c)...)
		cv = isa.GPRB(regScratchB)
	}
	g.divSteps(v, cv)
	g.zeroHi(v)
}

// divReg divides 32-bit values by a register, as eBPF: x / 0 = 0 and
// x % 0 = x; a divisor from 2^31 up goes at most once (divBig), below
// it the steps of divConst.
func (g *gen) divReg(v *ir.Value) {
	y := isa.GPRB(regScratchB)
	g.a.emit(isa.Mov(y, g.src(v.Args[1], false, right, limU)))
	// From here on the divisor is read from B21: a large constant
	// dividend must not pass through it.
	g.loadTo(g.dlo(v), v.Args[0], false)
	g.divRegCore(v, isMod(v.Op))
	g.zeroHi(v)
}

// divRegCore divides d (v's register) by B21 in place.
func (g *gen) divRegCore(v *ir.Value, mod bool) {
	a := g.a
	d := g.dlo(v)
	y := isa.GPRB(regScratchB)
	zero, big, end := a.newLabel(), a.newLabel(), a.newLabel()
	a.emit(isa.ALU(isa.None, isa.None, isa.OpB, y))
	a.branch(isa.BEQ, zero, 0)
	a.branch(isa.BMI, big, 0)
	g.divSteps(v, y)
	a.branch(isa.BR, end, 0)
	a.place(big)
	g.divBig(d, mod, zero)
	a.branch(isa.BR, end, 0)
	// y == 0, or a quotient of 0: the quotient is 0, the remainder x (in d).
	a.place(zero)
	if !mod {
		a.emit(isa.Immed(d, 0))
	}
	a.place(end)
}

// divBig divides d by B21 >= 2^31 in place: x - y without a borrow means
// a quotient of 1 and a remainder of x - y; otherwise it goes to zero
// (quotient 0, remainder x).
func (g *gen) divBig(d isa.Operand, mod bool, zero label) {
	t := isa.GPRB(regScratchA)
	g.a.emit(isa.ALU(t, isa.GPRA(d.Num), isa.OpSub, isa.GPRB(regScratchB)))
	g.a.branch(isa.BLO, zero, 0)
	if mod {
		g.a.emit(isa.ALU(d, isa.None, isa.OpB, t))
	} else {
		g.a.emit(isa.Immed(d, 1))
	}
}

// divSteps divides the result register (holding the dividend) by cv (an
// immediate or a B register below 2^31) as described at divConst, leaving
// the quotient or the remainder in it.
func (g *gen) divSteps(v *ir.Value, cv isa.Operand) {
	a := g.a
	d := g.dlo(v)
	q := isa.GPRB(d.Num)
	r, t := isa.GPRA(regScratchA), isa.GPRB(regScratchA)
	a.emit(isa.Immed(r, 0))
	for i := 0; i < 32; i++ {
		skip := a.newLabel()
		a.emit(isa.DblShf(r, r, q, 31),
			isa.Shf(d, isa.None, isa.ShfB, q, isa.ShiftL, 1),
			isa.ALU(t, r, isa.OpSub, cv))
		a.branch(isa.BLO, skip, 0)
		a.emit(isa.ALU(r, isa.None, isa.OpB, t), isa.ALU(d, isa.Imm(1), isa.OpOr, q))
		a.place(skip)
	}
	if isMod(v.Op) {
		a.emit(isa.ALU(d, r, isa.OpOr, isa.Imm(0)))
	}
}

// negIfMinus negates the 32-bit register d when the last ALU result was
// negative (N set).
func (g *gen) negIfMinus(d isa.Operand) {
	skip := g.a.newLabel()
	g.a.branch(isa.BPL, skip, 0)
	g.a.emit(isa.ALU(d, isa.Imm(0), isa.OpSub, isa.GPRB(d.Num)))
	g.a.place(skip)
}

// divSigned32: A21 keeps the result's sign (x ^ y for the quotient, x for
// the remainder; divRegCore leaves A21 alone), B21 = |y|, d = |x|, the
// unsigned division, then the sign.
func (g *gen) divSigned32(v *ir.Value) {
	a := g.a
	x, y := v.Args[0], v.Args[1]
	d := g.dlo(v)
	sign := isa.GPRA(regScratchB)
	if isMod(v.Op) {
		g.loadTo(sign, x, false)
	} else {
		g.alu(sign, g.src(x, false, left, limU), isa.OpXor, g.src(y, false, right, limU))
	}
	yv := isa.GPRB(regScratchB) // B21 only: A21 holds the sign
	if c, ok := g.constant(y, false); ok {
		if int32(c) < 0 {
			c = -c
		}
		a.emit(isa.LoadImm32(yv, c)...)
	} else {
		a.emit(isa.Mov(yv, g.src(y, false, right, limU)))
		g.negIfMinus(yv)
	}
	g.loadTo(d, x, false)
	a.emit(isa.Mov(isa.None, isa.GPRB(d.Num)))
	g.negIfMinus(d)
	g.divRegCore(v, isMod(v.Op))
	a.emit(isa.ALU(isa.None, sign, isa.OpOr, isa.Imm(0)))
	g.negIfMinus(d)
	g.zeroHi(v)
}

// divWide divides 64-bit values: q (v's two registers, the upper one
// given even when the result's upper half is known zero) starts as |x|,
// the divisor |y| goes to the LM scratch (Y0, Y1), and a loop of 64
// restoring steps shifts q's top bit into the remainder r (A20/B20 low,
// A21/B21 high, written to both banks), subtracts y and adds it back on a
// borrow, else sets q's low bit. y < 2^63 keeps r << 1 within 64 bits;
// y = 0 (q = 0, r = x) and y >= 2^63 (q = x >= y) are tested first. The
// counter is an LM word; the signed forms keep the result's sign in
// another.
func (g *gen) divWide(v *ir.Value) {
	a := g.a
	x, y := v.Args[0], v.Args[1]
	mod := isMod(v.Op)
	signed := v.Op == ir.OpSdiv64 || v.Op == ir.OpSmod64
	in := g.info[v.ID]
	if in.hi < 0 {
		g.fail(v, "BUG: the 64-bit division v%d has no upper register", v.ID)
	}
	q0, q1 := g.dlo(v), isa.GPRBoth(in.hi)
	// The scratch words first: moving the window uses B21.
	y0 := g.lmWord(v, g.divScratch, false)
	y1 := g.lmWord(v, g.divScratch+4, false)
	cnt := g.lmWord(v, g.divScratch+8, false)
	sign := g.lmWord(v, g.divScratch+12, false)
	if signed {
		if mod {
			a.emit(isa.Mov(sign, g.src(x, true, right, limU)))
		} else {
			g.alu(sign, g.src(x, true, left, limU), isa.OpXor, g.src(y, true, right, limU))
		}
	}
	a.emit(isa.Mov(y0, g.src(y, false, right, limU)))
	a.emit(isa.Mov(y1, g.src(y, true, right, limU)))
	g.loadTo(q0, x, false)
	g.loadTo(q1, x, true)
	if signed {
		// |y| and |x|: negate when the upper word is negative.
		skipY, skipX := a.newLabel(), a.newLabel()
		a.emit(isa.Mov(isa.None, y1))
		a.branch(isa.BPL, skipY, 0)
		a.emit(isa.ALU(y0, isa.Imm(0), isa.OpSub, y0), isa.ALU(y1, isa.Imm(0), isa.OpSubCarry, y1))
		a.place(skipY)
		a.emit(isa.Mov(isa.None, isa.GPRB(q1.Num)))
		a.branch(isa.BPL, skipX, 0)
		g.neg64(q0, q1)
		a.place(skipX)
	}
	r0, r1 := isa.GPRBoth(regScratchA), isa.GPRBoth(regScratchB)
	zero, big, loop, restore, next, end := a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel()
	a.emit(isa.Mov(r1, y1), isa.ALU(isa.None, isa.GPRA(regScratchB), isa.OpOr, y0))
	a.branch(isa.BEQ, zero, 0)
	a.emit(isa.Mov(isa.None, y1))
	a.branch(isa.BMI, big, 0)
	a.emit(isa.Immed(r0, 0), isa.Immed(r1, 0), isa.Mov(cnt, isa.Imm(64)))
	a.place(loop)
	a.emit(isa.DblShf(r1, isa.GPRA(regScratchB), isa.GPRB(regScratchA), 31),
		isa.DblShf(r0, isa.GPRA(regScratchA), isa.GPRB(q1.Num), 31),
		isa.DblShf(q1, isa.GPRA(q1.Num), isa.GPRB(q0.Num), 31),
		isa.Shf(q0, isa.None, isa.ShfB, isa.GPRB(q0.Num), isa.ShiftL, 1),
		isa.ALU(r0, isa.GPRA(regScratchA), isa.OpSub, y0),
		isa.ALU(r1, isa.GPRA(regScratchB), isa.OpSubCarry, y1))
	a.branch(isa.BLO, restore, 0)
	a.emit(isa.ALU(q0, isa.Imm(1), isa.OpOr, isa.GPRB(q0.Num)))
	a.branch(isa.BR, next, 0)
	a.place(restore)
	a.emit(isa.ALU(r0, isa.GPRA(regScratchA), isa.OpAdd, y0),
		isa.ALU(r1, isa.GPRA(regScratchB), isa.OpAddCarry, y1))
	a.place(next)
	a.emit(isa.ALU(cnt, cnt, isa.OpSub, isa.Imm(1)))
	a.branch(isa.BNE, loop, 0)
	if mod {
		a.emit(isa.Mov(q0, isa.GPRB(regScratchA)), isa.Mov(q1, isa.GPRB(regScratchB)))
	}
	a.branch(isa.BR, end, 0)
	// y >= 2^63: x - y without a borrow is a quotient of 1.
	a.place(big)
	a.emit(isa.ALU(r0, isa.GPRA(q0.Num), isa.OpSub, y0),
		isa.ALU(r1, isa.GPRA(q1.Num), isa.OpSubCarry, y1))
	a.branch(isa.BLO, zero, 0)
	if mod {
		a.emit(isa.Mov(q0, isa.GPRB(regScratchA)), isa.Mov(q1, isa.GPRB(regScratchB)))
	} else {
		a.emit(isa.Immed(q0, 1), isa.Immed(q1, 0))
	}
	a.branch(isa.BR, end, 0)
	// y == 0, or a quotient of 0: q = 0, r = x (in q).
	a.place(zero)
	if !mod {
		a.emit(isa.Immed(q0, 0), isa.Immed(q1, 0))
	}
	a.place(end)
	if signed {
		skip := a.newLabel()
		a.emit(isa.Mov(isa.None, sign))
		a.branch(isa.BPL, skip, 0)
		g.neg64(q0, q1)
		a.place(skip)
	}
}

// neg64 negates the 64-bit value in registers lo, hi in place.
func (g *gen) neg64(lo, hi isa.Operand) {
	g.a.emit(isa.ALU(lo, isa.Imm(0), isa.OpSub, isa.GPRB(lo.Num)),
		isa.ALU(hi, isa.Imm(0), isa.OpSubCarry, isa.GPRB(hi.Num)))
}
