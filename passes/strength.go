package passes

import (
	"math/bits"

	"github.com/nfpcc/nfpcc/ir"
)

// strength replaces multiplications, divisions and modulos by constants
// with cheaper operations (the NFP has no divider and multiplies in steps):
//
//   - x * 2^k as x << k, x * 0 as 0;
//
//   - unsigned x / 2^k as x >> k, x % 2^k as x & (2^k-1) (32 and 64 bits);
//     x / 0 as 0 and x % 0 as x (eBPF's definitions);
//
//   - unsigned 32-bit x / c for other c through a multiply-high by a magic
//     number (Granlund & Montgomery, "Division by Invariant Integers using
//     Multiplication", PLDI 1994; Warren, Hacker's Delight §10-8): the
//     64-bit product of zext(x) and m, shifted right, when some m < 2^32
//     is exact for every 32-bit x, else the 33-bit m's "add" form; and
//     x % c as x - (x / c) * c.
//
//   - signed 32-bit x / c and x % c likewise (Hacker's Delight §10-1 to
//     10-3: a power of two as a biased arithmetic shift, other divisors
//     through the signed magic number and a 64-bit product of sext values;
//     negative divisors negate the quotient; c = -2^31 is x == c).
//
// 64-bit division by other constants is left alone.
// Facts: the final value takes over the replaced one's facts. Remarks:
// each rewrite.
func strength(u *Unit) {
	f := u.f
	users := uses(f)
	for _, b := range f.Blocks {
		for i := 0; i < len(b.Instrs); i++ {
			v := b.Instrs[i]
			if len(v.Args) != 2 || !pure(v) {
				continue
			}
			c, ok := isConst(v.Args[1])
			if !ok || len(users.of(v)) == 0 {
				continue
			}
			x := v.Args[0]
			var out []*ir.Value // new instructions, the last one the result
			emit := func(nv *ir.Value) *ir.Value {
				nv.Pos = v.Pos
				out = append(out, nv)
				return nv
			}
			k := func(n uint64) *ir.Value { return emit(newConst(f, v.Type, n, v.Pos)) }
			op2 := func(op ir.Op, a, b *ir.Value) *ir.Value { return emit(f.NewValue(op, v.Type, a, b)) }
			pow2 := c != 0 && c&(c-1) == 0
			shift := uint64(bits.TrailingZeros64(c))
			var what string
			switch v.Op {
			case ir.OpMul32, ir.OpMul64:
				switch {
				case c == 0:
					k(0)
					what = "x * 0 is 0"
				case pow2 && c != 1:
					op2(v.Op-ir.OpMul32+ir.OpLsh32, x, k(shift))
					what = "multiply by " + utoa(c) + " as a shift left by " + utoa(shift)
				}
			case ir.OpDiv32, ir.OpDiv64:
				switch {
				case c == 0:
					k(0)
					what = "x / 0 is 0"
				case pow2 && c != 1:
					op2(v.Op-ir.OpDiv32+ir.OpRsh32, x, k(shift))
					what = "divide by " + utoa(c) + " as a shift right by " + utoa(shift)
				case v.Op == ir.OpDiv32 && !pow2:
					divMagic(f, x, uint32(c), emit)
					what = "divide by " + utoa(c) + " as a multiply-high by a magic number"
				}
			case ir.OpSdiv32:
				switch {
				case c == 0:
					k(0)
					what = "x s/ 0 is 0"
				case c != 1:
					sdivConst(f, x, int32(uint32(c)), emit)
					what = "signed divide by " + itoa(int64(int32(uint32(c)))) + " with a multiply-high"
				}
			case ir.OpSmod32:
				d := int32(uint32(c))
				if c == 0 || d == 1 || d == -1 {
					break // x s% 0 is x (copyprop's kind), x s% ±1 is 0: sccp folds neither; left alone
				}
				q := sdivConst(f, x, d, emit)
				p := op2(ir.OpMul32, q, k(c))
				op2(ir.OpSub32, x, p)
				what = "signed modulo " + itoa(int64(d)) + " as x - (x s/ c) * c with a multiply-high"
			case ir.OpMod32, ir.OpMod64:
				switch {
				case c == 0:
					// x % 0 is x: a copy (copyprop's kind of rewrite).
					u.remark(v, "x %% 0 is x")
					replaceAll(users.of(v), v, x)
					users.moved(v, x)
					continue
				case pow2:
					op2(v.Op-ir.OpMod32+ir.OpAnd32, x, k(c-1))
					what = "modulo " + utoa(c) + " as a mask"
				case v.Op == ir.OpMod32:
					q := divMagic(f, x, uint32(c), emit)
					p := op2(ir.OpMul32, q, k(c))
					op2(ir.OpSub32, x, p)
					what = "modulo " + utoa(c) + " as x - (x / c) * c with a multiply-high"
				}
			}
			if what == "" || len(out) == 0 {
				continue
			}
			for j, nv := range out {
				b.InsertBefore(i+j, nv)
			}
			res := out[len(out)-1]
			if fa := f.Facts[v.ID]; fa != nil && res.Op != ir.OpConst {
				f.Facts[res.ID] = fa.Clone()
			}
			u.remark(v, "%s", what)
			replaceAll(users.of(v), v, res)
			users.moved(v, res)
			i += len(out)
		}
	}
}

// magic32 finds, for a divisor 2 < c < 2^31 (not a power of two), a multiplier
// and shift with x / c == (x * m) >> (32 + s) for every 32-bit x: m < 2^32
// (short = true) when one exists, else the 33-bit m - 2^32 for the add form.
func magic32(c uint32) (m uint64, s uint, short bool) {
	l := uint(bits.Len32(c - 1)) // ceil(log2 c)
	for s = 0; s <= l; s++ {
		// m = ceil(2^(32+s) / c)
		lo := uint64(1) << (32 + s) // c < 2^31, so s < 32
		m = lo / uint64(c)
		if lo%uint64(c) != 0 {
			m++
		}
		e := m*uint64(c) - lo
		if m < 1<<32 && e <= 1<<s {
			return m, s, true
		}
	}
	// 33-bit multiplier: m = floor(2^(32+l) / c) + 1, exact for 32-bit x.
	m = (uint64(1)<<(32+l))/uint64(c) + 1
	return m - 1<<32, l, false
}

// divMagic emits x / c for a 32-bit x and returns the quotient (i32).
func divMagic(f *ir.Func, x *ir.Value, c uint32, emit func(*ir.Value) *ir.Value) *ir.Value {
	if c >= 1<<31 {
		// The quotient is 0 or 1.
		return emit(f.NewValue(ir.OpGe32, ir.I32, x, emit(newConst(f, ir.I32, uint64(c), x.Pos))))
	}
	m, s, short := magic32(c)
	c64 := func(n uint64) *ir.Value { return emit(newConst(f, ir.I64, n, x.Pos)) }
	c32 := func(n uint64) *ir.Value { return emit(newConst(f, ir.I32, n, x.Pos)) }
	zx := emit(f.NewValue(ir.OpZext, ir.I64, x))
	p := emit(f.NewValue(ir.OpMul64, ir.I64, zx, c64(m)))
	if short {
		q := emit(f.NewValue(ir.OpRsh64, ir.I64, p, c64(uint64(32+s))))
		return emit(f.NewValue(ir.OpTrunc, ir.I32, q))
	}
	// t = mulhi(x, m'); q = (((x - t) >> 1) + t) >> (s - 1)
	th := emit(f.NewValue(ir.OpRsh64, ir.I64, p, c64(32)))
	t := emit(f.NewValue(ir.OpTrunc, ir.I32, th))
	d := emit(f.NewValue(ir.OpSub32, ir.I32, x, t))
	d1 := emit(f.NewValue(ir.OpRsh32, ir.I32, d, c32(1)))
	sum := emit(f.NewValue(ir.OpAdd32, ir.I32, d1, t))
	return emit(f.NewValue(ir.OpRsh32, ir.I32, sum, c32(uint64(s-1))))
}

// magicS32 is the signed magic number M and shift s for a divisor
// 2 <= d < 2^31 (Hacker's Delight, figure 10-1): the quotient is
// (mulhs(M, x) [+ x when M < 0]) >>s s, plus one when x is negative.
func magicS32(d uint32) (m int32, s uint) {
	const two31 = uint32(1) << 31
	anc := two31 - 1 - two31%d // |nc|
	p := uint(31)
	q1, r1 := two31/anc, two31-two31/anc*anc
	q2, r2 := two31/d, two31-two31/d*d
	for {
		p++
		q1, r1 = 2*q1, 2*r1
		if r1 >= anc {
			q1++
			r1 -= anc
		}
		q2, r2 = 2*q2, 2*r2
		if r2 >= d {
			q2++
			r2 -= d
		}
		delta := d - r2
		if !(q1 < delta || (q1 == delta && r1 == 0)) {
			break
		}
	}
	return int32(q2 + 1), p - 32
}

// sdivConst emits the signed x / d for a 32-bit x and d not 0 or 1, and
// returns the quotient (i32).
func sdivConst(f *ir.Func, x *ir.Value, d int32, emit func(*ir.Value) *ir.Value) *ir.Value {
	c32 := func(n int64) *ir.Value { return emit(newConst(f, ir.I32, uint64(n), x.Pos)) }
	op := func(o ir.Op, a, b *ir.Value) *ir.Value { return emit(f.NewValue(o, ir.I32, a, b)) }
	if d == -1<<31 {
		return op(ir.OpEq32, x, c32(int64(d)))
	}
	neg := d < 0
	ad := uint32(d)
	if neg {
		ad = uint32(-d)
	}
	var q *ir.Value
	switch {
	case ad == 1:
		q = x
	case ad&(ad-1) == 0:
		// (x + ((x >>s 31) >>u (32-k))) >>s k
		k := int64(bits.TrailingZeros32(ad))
		sign := op(ir.OpArsh32, x, c32(31))
		bias := op(ir.OpRsh32, sign, c32(32-k))
		q = op(ir.OpArsh32, op(ir.OpAdd32, x, bias), c32(k))
	default:
		m, s := magicS32(ad)
		sx := emit(f.NewValue(ir.OpSext, ir.I64, x))
		mc := emit(newConst(f, ir.I64, uint64(int64(m)), x.Pos))
		p := emit(f.NewValue(ir.OpMul64, ir.I64, sx, mc))
		hi := emit(f.NewValue(ir.OpArsh64, ir.I64, p, emit(newConst(f, ir.I64, 32, x.Pos))))
		q = emit(f.NewValue(ir.OpTrunc, ir.I32, hi))
		if m < 0 {
			q = op(ir.OpAdd32, q, x)
		}
		if s > 0 {
			q = op(ir.OpArsh32, q, c32(int64(s)))
		}
		q = op(ir.OpAdd32, q, op(ir.OpRsh32, x, c32(31)))
	}
	if neg {
		q = emit(f.NewValue(ir.OpNeg32, ir.I32, q))
	}
	return q
}
